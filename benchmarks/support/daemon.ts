/**
 * A `credregd` child process (the compiled dist/bin/credregd.js, as shipped)
 * in cluster mode, with a client on its unix socket. It runs at the default
 * log level (`info`) with stdout discarded, as a daemon under systemd would
 * log to the journal; the benchmark process never parses its lines.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { connect, type CredregClient } from '../../lib/client/client.js'
import type { DaemonStatus } from '../../lib/client/types.js'
import { reapOnExit } from '../../test/fixtures/reaper.js'

/** The compiled daemon entry point. */
export const DAEMON_BIN = fileURLToPath(new URL('../../dist/bin/credregd.js', import.meta.url))

const READY_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 20_000
const POLL_MS = 20

/**
 * Extra node flags for every daemon child, from `CREDREG_BENCH_DAEMON_NODE_ARGS`
 * (white-space separated): `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles the
 * daemons, since node refuses `--cpu-prof` in `NODE_OPTIONS`.
 */
function nodeArgs (): string[] {
  return (process.env.CREDREG_BENCH_DAEMON_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
}

/** Why no daemon can run, or `undefined` when it can. */
export function daemonUnavailable (): string | undefined {
  return existsSync(DAEMON_BIN) ? undefined : `${DAEMON_BIN} is missing: run npm run build`
}

export interface DaemonSpec {
  natsUrl: string
  keyFile: string
  namespace: string
  /** Holds the data dir and the socket; short, for the 107-byte socket path limit. */
  dir: string
  /** More credregd flags (e.g. `--heartbeat-ms`). */
  args?: string[]
}

export interface BenchDaemon extends AsyncDisposable {
  /** A client of the benchmark's own, for status polls. */
  readonly client: CredregClient
  readonly socket: string
  readonly pid: number
  /** Resident set and its peak, in MB, from /proc. */
  memory: () => { rssMB: number, peakMB: number }
  /** Polls the status until the replica has applied through `seq`; `onPoll` sees each applied sequence. */
  waitApplied: (seq: number, onPoll?: (applied: number) => void) => Promise<DaemonStatus>
  /** SIGTERM and wait for the exit; `start()` brings it back on the same data dir. */
  stop: () => Promise<void>
  /** Spawns it again; resolves once its API answers. */
  start: () => Promise<void>
}

/** Spawns a daemon and resolves once its API answers and it is connected to NATS. */
export async function startBenchDaemon (spec: DaemonSpec): Promise<BenchDaemon> {
  const socket = join(spec.dir, 'd.sock')
  const args = [
    ...nodeArgs(), DAEMON_BIN, '--data-dir', join(spec.dir, 'data'), '--socket', socket, '--nats', spec.natsUrl,
    '--key-file', spec.keyFile, '--namespace', spec.namespace, ...spec.args ?? []
  ]
  const client = connect({ socket, timeoutMs: 60_000 })
  let child: ChildProcess | undefined
  let stderr = ''
  let exited: Promise<void> = Promise.resolve()

  const start = async (): Promise<void> => {
    stderr = ''
    const spawned = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    reapOnExit(spawned)
    spawned.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000) })
    exited = new Promise(resolve => spawned.once('exit', () => resolve()))
    child = spawned
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (spawned.exitCode !== null) throw new Error(`credregd exited with ${spawned.exitCode} before it was ready:\n${stderr}`)
      const status = await client.status().catch(() => undefined)
      if (status?.nats.connected === true) return
      if (Date.now() > deadline) throw new Error(`credregd was not ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`)
      await sleep(POLL_MS)
    }
  }

  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    client,
    socket,
    get pid () { return child?.pid ?? 0 },
    memory: () => {
      const status = readFileSync(`/proc/${child?.pid ?? 0}/status`, 'utf8')
      const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
      return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 }
    },
    waitApplied: async (seq, onPoll) => {
      for (;;) {
        const status = await client.status()
        onPoll?.(status.appliedSeq)
        if (status.appliedSeq >= seq) return status
        if (child !== undefined && child.exitCode !== null) throw new Error(`credregd exited while catching up:\n${stderr}`)
        await sleep(POLL_MS)
      }
    },
    stop,
    start,
    [Symbol.asyncDispose]: async () => {
      await stop()
      await client.close()
    }
  }
}
