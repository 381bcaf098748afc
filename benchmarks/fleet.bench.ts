/**
 * Scenario fleet: what one real daemon costs as its namespace grows, against
 * one real nats-server of its own (monitoring on). Simulated members in this
 * process (support/sim-members.ts) write their membership records as daemons
 * do, at 1 %, 10 % and all of `fleetMembers` (100, 1,000, 10,000); at each
 * size the daemon's CPU (/proc/<pid>/stat) and RSS, the server's CPU and the
 * messages per second through it (/varz in_msgs, out_msgs) over a window in
 * which nobody asks anything; then the time `GET /v1/nodes` takes (each read
 * after the one-second cache has lapsed, so each reads the stream), with
 * `?key=`, and `credreg nodes` as a user runs it (a new CLI process).
 *
 * Then fleet-consumers: N ordered consumers (one connection each, as N hosts
 * following the log) on one stream at 1 %, 10 % and all of `fleetConsumers`
 * (10, 100, 1,000): the server's CPU, memory and messages per second idle,
 * and while 10 writes a second are delivered to every consumer.
 */
import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { Authenticator } from '../lib/authenticator.js'
import { CLI_BIN } from '../test/fixtures/cli.js'
import { runIfMain } from './support/cli.js'
import { scratchDir } from './support/credreg.js'
import { startBenchDaemon, type BenchDaemon } from './support/daemon.js'
import type { BenchEnv } from './support/env.js'
import { startMonitoredNats, type MonitoredNats } from './support/nats-monitor.js'
import { cpuMeter, cpuSeconds, rssMB } from './support/proc.js'
import { progress } from './support/progress.js'
import type { Row } from './support/results.js'
import { measuredRow, missingRow, rateRow, round } from './support/rows.js'
import type { Scenario } from './support/scenario.js'
import { SimMembers } from './support/sim-members.js'
import { summarize } from './support/stats.js'

const ID = 'fleet'
const NAMESPACE = 'bfleet'
const KEY = 'fleet/db'
/** Reads of the nodes view timed at each size. */
const READS = 5
/** More than the nodes view's cache, so that every timed read reads the stream. */
const PAST_CACHE_MS = 1100
/** Writes a second delivered to every ordered consumer. */
const WRITES_PER_SEC = 10

const run = promisify(execFile)

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    await members(env, rows)
    await consumers(env, rows)
  }
}

/** 1 %, 10 % and all of `max`. */
function steps (max: number): number[] {
  return [Math.max(1, Math.round(max / 100)), Math.max(1, Math.round(max / 10)), max]
}

async function members (env: BenchEnv, rows: Row[]): Promise<void> {
  if (env.daemonUnavailable !== undefined) {
    rows.push(missingRow(ID, 'credreg daemon', 'unavailable', env.daemonUnavailable))
    return
  }
  const { fleetMembers, fleetIntervalMs, fleetWindowMs } = env.sizes
  await using nats = await startMonitoredNats()
  const nc = await connect({ servers: nats.server.url, name: 'credreg bench fleet members' })
  const dir = await scratchDir(env, 'fleet-d')
  let daemon: BenchDaemon | undefined
  let sim: SimMembers | undefined
  try {
    daemon = await startBenchDaemon({ natsUrl: nats.server.url, keyFile: env.keyFile, namespace: NAMESPACE, dir, args: ['--heartbeat-ms', String(fleetIntervalMs)] })
    await daemon.client.put(KEY, { password: 'one' })
    const seq = (await daemon.client.status()).appliedSeq
    const auth = new Authenticator(await readFile(env.keyFile))
    sim = new SimMembers({ js: jetstream(nc), auth, namespace: NAMESPACE, intervalMs: fleetIntervalMs, appliedSeq: () => seq })
    for (const size of steps(fleetMembers)) {
      progress(`${ID}: ${size.toLocaleString('en-US')} simulated members`)
      await sim.grow(size)
      // One interval in the steady state before measuring.
      await sleep(fleetIntervalMs)
      rows.push(await measureSize(daemon, nats, size, fleetWindowMs, sim.failures))
    }
  } finally {
    await sim?.close()
    await daemon?.[Symbol.asyncDispose]()
    await nc.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function measureSize (daemon: BenchDaemon, nats: MonitoredNats, size: number, windowMs: number, failures: number): Promise<Row> {
  const load = loadavg()[0] as number
  const daemonCpu = cpuMeter(daemon.pid)
  const serverCpu = cpuMeter(nats.server.pid)
  const rates = await nats.rates()
  await sleep(windowMs)
  const idle = { daemonCpu: daemonCpu(), serverCpu: serverCpu(), ...await rates() }
  const rss = rssMB(daemon.pid)

  const samples: number[] = []
  const cpu0 = cpuSeconds(daemon.pid)
  let elapsed = 0
  for (let i = 0; i < READS; i++) {
    await sleep(PAST_CACHE_MS)
    const t0 = performance.now()
    const listed = await daemon.client.nodes()
    const ms = performance.now() - t0
    elapsed += ms
    samples.push(ms)
    if (listed.length !== size + 1) throw new Error(`the daemon listed ${listed.length} nodes of ${size + 1}`)
  }
  const cpuPerReadMs = (cpuSeconds(daemon.pid) - cpu0) * 1000 / READS

  await sleep(PAST_CACHE_MS)
  let t0 = performance.now()
  const keyed = await daemon.client.nodes({ key: KEY })
  const keyedMs = performance.now() - t0
  if (!keyed.every(r => r.keyVersion === 1)) throw new Error('not every member holds version 1 of the key')

  await sleep(PAST_CACHE_MS)
  t0 = performance.now()
  const cli = await run(process.execPath, [CLI_BIN, '--socket', daemon.socket, 'nodes'], { maxBuffer: 64 * 1024 * 1024 })
  const cliMs = performance.now() - t0
  const cliLines = cli.stdout.trimEnd().split('\n')
  if (cliLines.length !== size + 2) throw new Error(`credreg nodes printed ${cliLines.length} lines for ${size + 1} nodes: ${cliLines.slice(0, 3).join(' / ')} … ${cliLines.slice(-3).join(' / ')}; stderr: ${cli.stderr.slice(0, 500)}`)

  const row = measuredRow(ID, 'credreg daemon', `n: members besides the daemon, each writing a record per interval; p50/p99 and ops/s: ${READS} GET /v1/nodes, each reading the stream`, summarize(samples, elapsed), {
    'daemon CPU % idle': round(idle.daemonCpu),
    'daemon RSS MB': round(rss),
    'NATS in msgs/s': round(idle.inPerSec),
    'NATS out msgs/s': round(idle.outPerSec),
    'nats-server CPU %': round(idle.serverCpu),
    'CPU ms per read': round(cpuPerReadMs),
    'nodes --key ms': round(keyedMs),
    'credreg nodes (CLI process) ms': round(cliMs),
    'load 1m': round(load),
    'failed member writes': failures
  })
  return { ...row, n: size }
}

async function consumers (env: BenchEnv, rows: Row[]): Promise<void> {
  const { fleetConsumers, fleetWindowMs } = env.sizes
  await using nats = await startMonitoredNats()
  const admin = await connect({ servers: nats.server.url, name: 'credreg bench fleet writer' })
  const stream = 'BFLEET_LOG'
  await (await jetstreamManager(admin)).streams.add({ name: stream, subjects: ['bfleet.log.>'], storage: StorageType.File })
  const js = jetstream(admin)
  const readers: Array<{ nc: NatsConnection, stop: () => void, done: Promise<void> }> = []
  let delivered = 0
  try {
    for (const n of steps(fleetConsumers)) {
      progress(`${ID}: ${n.toLocaleString('en-US')} ordered consumers`)
      while (readers.length < n) {
        const nc = await connect({ servers: nats.server.url, name: `credreg bench follower ${readers.length}` })
        const messages = await (await jetstream(nc).consumers.get(stream)).consume()
        const done = (async () => { for await (const _ of messages) delivered++ })()
        readers.push({ nc, stop: () => { messages.stop() }, done })
      }
      await sleep(2000)
      const load = loadavg()[0] as number
      let cpu = cpuMeter(nats.server.pid)
      let rates = await nats.rates()
      await sleep(fleetWindowMs)
      const idle = { cpu: cpu(), ...await rates(), memMB: (await nats.varz()).mem / 1024 ** 2 }

      cpu = cpuMeter(nats.server.pid)
      rates = await nats.rates()
      const before = delivered
      const writes = Math.max(1, Math.round(WRITES_PER_SEC * fleetWindowMs / 1000))
      for (let i = 0; i < writes; i++) {
        await js.publish(`bfleet.log.k${i % 100}`, JSON.stringify({ i, pad: 'x'.repeat(256) }))
        await sleep(1000 / WRITES_PER_SEC)
      }
      await sleep(500)
      const busy = { cpu: cpu(), ...await rates(), memMB: (await nats.varz()).mem / 1024 ** 2 }
      rows.push(rateRow('fleet-consumers', 'nats-server', `${n.toLocaleString('en-US')} ordered consumers on one stream, one connection each; ops/s: messages delivered per second while ${WRITES_PER_SEC} writes/s`, n, busy.outPerSec, {
        'idle CPU %': round(idle.cpu),
        'idle msgs/s in+out': round(idle.inPerSec + idle.outPerSec),
        'RSS MB': round(idle.memMB),
        [`CPU % at ${WRITES_PER_SEC} writes/s`]: round(busy.cpu),
        'RSS MB busy': round(busy.memMB),
        'delivered / expected': round((delivered - before) / (writes * n)),
        'load 1m': round(load)
      }))
    }
  } finally {
    for (const r of readers) r.stop()
    await Promise.allSettled(readers.map(async r => { await r.done; await r.nc.close() }))
    await admin.close()
  }
}

await runIfMain(import.meta, scenario)
