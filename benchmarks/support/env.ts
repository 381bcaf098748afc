/**
 * The environment of one run: a nats-server on a free loopback port with a
 * temp store, whether etcd is installed, a shared data key and a temp dir for
 * replicas, all torn down at the end.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { natsServerBinary, startNatsServer, type NatsServer } from '../../test/fixtures/nats-server.js'
import { daemonUnavailable } from './daemon.js'
import { etcdBinary, etcdVersion } from './etcd-server.js'
import { progress } from './progress.js'
import { FULL, QUICK, type Sizes } from './sizes.js'

export interface BenchEnv extends AsyncDisposable {
  readonly quick: boolean
  readonly sizes: Sizes
  readonly nats: NatsServer
  /** An admin connection (stream and bucket management, bulk loads). */
  readonly nc: NatsConnection
  /** The etcd executable (each scenario starts a fresh etcd), `undefined` when not installed. */
  readonly etcdBinary: string | undefined
  /** Why no daemon rows can be measured, or `undefined`. */
  readonly daemonUnavailable: string | undefined
  /** A 32-byte data key file (mode 0600) every credreg node and daemon of the run shares. */
  readonly keyFile: string
  /** A temp dir for replicas and sockets; short, for the unix socket path limit. */
  readonly dir: string
  readonly versions: Record<string, string>
  close: () => Promise<void>
}

export async function startEnv (quick: boolean): Promise<BenchEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'crb-'))
  const keyFile = join(dir, 'data.key')
  await writeFile(keyFile, randomBytes(32), { mode: 0o600 })
  const nats = await startNatsServer()
  const nc = await connect({ servers: nats.url, name: 'credreg bench admin' })
  const etcd = etcdBinary()
  const versions: Record<string, string> = {
    node: process.version,
    'nats-server': execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server: /, '')
  }
  if (etcd !== undefined) versions.etcd = etcdVersion(etcd)
  progress(`nats-server ${versions['nats-server']} at ${nats.url}; ${etcd === undefined ? 'etcd not installed' : `etcd ${versions.etcd} (${etcd})`}`)
  const close = async (): Promise<void> => {
    await nc.close()
    await nats.stop()
    await rm(dir, { recursive: true, force: true })
  }
  return {
    quick,
    sizes: quick ? QUICK : FULL,
    nats,
    nc,
    etcdBinary: etcd,
    daemonUnavailable: daemonUnavailable(),
    keyFile,
    dir,
    versions,
    close,
    [Symbol.asyncDispose]: close
  }
}
