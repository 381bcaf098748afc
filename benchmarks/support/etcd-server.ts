/**
 * A throw-away etcd on loopback: free client and peer ports, a temp data dir,
 * killed with the benchmark. One per scenario, so no scenario pays for the
 * revisions and tombstones another left (after a million deleted keys, etcd
 * 3.4 slows to a few writes a second). Only when an `etcd` binary is on PATH (Debian
 * package `etcd-server`); otherwise the etcd rows say "not installed".
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePorts } from '../../test/fixtures/ports.js'
import { reapOnExit } from '../../test/fixtures/reaper.js'

const READY_TIMEOUT_MS = 20_000
const STOP_GRACE_MS = 5000
// The scale scenario stores a million keys; the default 2 GB quota is tight with revisions kept.
const QUOTA_BYTES = 8 * 1024 ** 3

export interface EtcdServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Kills it and removes its data. */
  stop: () => Promise<void>
}

/** The `etcd` executable on PATH, or `undefined`. */
export function etcdBinary (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, 'etcd')
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

/** Starts etcd and resolves once `/health` says so. */
export async function startEtcd (binary: string): Promise<EtcdServer> {
  const dir = await mkdtemp(join(tmpdir(), 'credreg-bench-etcd-'))
  const [clientPort, peerPort] = await freePorts(2) as [number, number]
  const url = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const child = spawn(binary, [
    '--name', 'bench',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `bench=${peer}`,
    '--quota-backend-bytes', String(QUOTA_BYTES),
    '--logger', 'zap',
    '--log-level', 'error'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  reapOnExit(child, dir)
  let log = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { log = (log + s).slice(-4000) })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  try {
    await waitHealthy(url, child)
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    await rm(dir, { recursive: true, force: true })
    throw new Error(`etcd did not start: ${(err as Error).message}\n${log}`)
  }
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  return { url, stop, [Symbol.asyncDispose]: stop }
}

async function waitHealthy (url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.signalCode ?? `code ${child.exitCode}`})`)
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return
    } catch {}
    if (Date.now() > deadline) throw new Error(`not healthy within ${READY_TIMEOUT_MS} ms`)
    await sleep(100)
  }
}

/** `etcd --version`'s version number. */
export function etcdVersion (binary: string): string {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8' })
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? 'unknown'
}
