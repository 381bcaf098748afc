/**
 * `npm run bench:stages [-- --quick]`: where a write's time goes in a
 * daemon. The put scenario's conditional puts (1 writer, then 16 writers on
 * distinct keys) through a daemon in cluster mode, with one watcher on the
 * daemon; after each phase, the daemon's `GET /v1/timings` (p50 / p99 per
 * stage of the phase's writes, which fill the window of latest samples), the
 * client-side latency and the 1-minute load average before and after, as a
 * Markdown table on stdout.
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { StageSummary, Timings } from '../lib/client/types.js'
import { scratchDir } from './support/credreg.js'
import { startBenchDaemon, type BenchDaemon } from './support/daemon.js'
import { key, spread, value } from './support/data.js'
import { startEnv } from './support/env.js'
import { progress } from './support/progress.js'
import { measure, measureConcurrent, type Measured } from './support/stats.js'

const NAMESPACE = 'bstages'
// At least the daemon's window of latest samples per stage, so the percentiles are of one phase alone.
const WINDOW = 2048
const WRITERS = 16

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const keys = values.quick ? 64 : 1000
const ops = values.quick ? 100 : WINDOW

const load1 = (): string => loadavg()[0]?.toFixed(2) ?? '?'

/** Runs `phase` and returns its report: the stages as the daemon timed them, with the load around it. */
async function phase (daemon: BenchDaemon, title: string, run: () => Promise<Measured>): Promise<string> {
  progress(`stages: ${title}`)
  const before = load1()
  const m = await run()
  const timings = await daemon.client.timings()
  const head = `### ${title}\n\n` +
    `Client: p50 ${m.p50Ms.toFixed(3)} ms, p99 ${m.p99Ms.toFixed(3)} ms, ${Math.round(m.opsPerSec)} writes/s over ${m.n} writes; ` +
    `load average (1 min) ${before} before, ${load1()} after.\n\n`
  return head + table(timings) + '\n'
}

function table (timings: Timings): string {
  const row = (path: string) => (s: StageSummary): string => `| ${path} | ${s.stage} | ${s.count} | ${s.p50Ms?.toFixed(3) ?? '-'} | ${s.p99Ms?.toFixed(3) ?? '-'} |`
  return ['| path | stage | count | p50 ms | p99 ms |', '|---|---|---:|---:|---:|',
    ...timings.write.map(row('write')), ...timings.propagation.map(row('propagation'))].join('\n') + '\n'
}

const env = await startEnv(values.quick)
try {
  if (env.daemonUnavailable !== undefined) throw new Error(env.daemonUnavailable)
  const daemon = await startBenchDaemon({ natsUrl: env.nats.url, keyFile: env.keyFile, namespace: NAMESPACE, dir: await scratchDir(env, 'stages-d') })
  try {
    process.stdout.write(await run(daemon))
  } finally {
    await daemon[Symbol.asyncDispose]()
  }
} finally {
  await env.close()
}

async function run (daemon: BenchDaemon): Promise<string> {
  const client = daemon.client
  const versions: number[] = []
  for (let n = 0; n < keys; n++) versions[n] = (await client.put(key(n), value(n), { ifAbsent: true })).version
  const write = async (n: number): Promise<void> => { versions[n] = (await client.put(key(n), value(n, versions[n]), { ifVersion: versions[n] as number })).version }
  // One watcher of every key, as an agent rendering them would be: each write is an event sent.
  const stop = new AbortController()
  const watching = (async () => { for await (const _ of client.watch('svc/', { signal: stop.signal })); })().catch(() => {})
  try {
    let out = `## Stage timings (${new Date().toISOString()}, ${keys} keys of 256 bytes, one watcher)\n\n`
    out += await phase(daemon, 'Conditional put, 1 writer', async () => await measure(ops, async i => await write(spread(i, keys))))
    const perWriter = Math.floor(keys / WRITERS)
    out += await phase(daemon, `Conditional put, ${WRITERS} writers on distinct keys`,
      async () => await measureConcurrent(WRITERS, Math.ceil(ops / WRITERS) * 2, async (w, i) => await write(w + WRITERS * (i % perWriter))))
    return out
  } finally {
    stop.abort()
    await watching
  }
}
