/**
 * Stage timings of a real daemon (standalone): after a few writes and a
 * watcher receiving their events, `/metrics` has the stage histograms with
 * a count per write, `GET /v1/timings` summarises them and `credreg status
 * --timings` prints every stage. No figure is asserted: only that each
 * stage was timed as often as it happened; in cluster mode too, where a
 * record's delivery is timed from the stream's own time of it.
 */
import t from 'tap'
import { Agent } from 'undici'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { openSse } from '../fixtures/sse-reader.js'

const WRITE_STAGES = ['parsed', 'checked', 'sealed', 'published', 'applied', 'answered']
const PROPAGATION_STAGES = ['delivered', 'applied', 'event-sent']
const WRITES = 5

const daemon = await startDaemon()
t.teardown(() => daemon.stop())
const agent = new Agent({ connect: { socketPath: daemon.socket } })
t.teardown(() => agent.close())

/** The `_count` of every stage of `metric` in the `/metrics` of `from`. */
async function counts (metric: string, from = daemon): Promise<Record<string, number>> {
  const text = (await from.request('GET', '/metrics')).text
  const found: Record<string, number> = {}
  for (const [, stage, n] of text.matchAll(new RegExp(`^${metric}_count\\{stage="([a-z-]+)"\\} (\\d+)$`, 'gm'))) found[stage as string] = Number(n)
  return found
}

const every = (stages: string[], n: number): Record<string, number> => Object.fromEntries(stages.map(s => [s, n]))

t.test('before any write every stage is exposed at 0', async t => {
  t.same(await counts('credreg_write_stage_seconds'), every(WRITE_STAGES, 0))
  t.same(await counts('credreg_propagation_stage_seconds'), every(PROPAGATION_STAGES, 0))
})

t.test('each write and each change sent to a watcher is timed once per stage', async t => {
  const watcher = await openSse(agent, '/v1/watch?prefix=app/')
  t.teardown(() => watcher.close())
  t.equal(watcher.status, 200)
  for (let version = 0; version < WRITES; version++) {
    const headers: Record<string, string> = version === 0 ? { 'if-none-match': '*' } : { 'if-match': `"${version}"` }
    const res = await daemon.request('PUT', '/v1/entities/app/db', { headers, body: { password: `p${version}` } })
    t.equal(res.status, version === 0 ? 201 : 200, res.text)
  }
  const refused = await daemon.request('PUT', '/v1/entities/app/db', { headers: { 'if-match': '"1"' }, body: { password: 'stale' } })
  t.equal(refused.status, 412, 'a refused write is not timed')
  const events = await watcher.read(e => e.length >= WRITES)
  t.equal(events.length, WRITES)

  t.same(await eventually(async () => {
    const c = await counts('credreg_write_stage_seconds')
    return c.answered === WRITES && c
  }, 'the last answer to be timed'), every(WRITE_STAGES, WRITES))
  t.same(await eventually(async () => {
    const c = await counts('credreg_propagation_stage_seconds')
    return c['event-sent'] === WRITES && c
  }, 'the last event sent to be timed'), every(PROPAGATION_STAGES, WRITES), 'one record, one batch, one event per write (one watcher)')

  const timings = (await daemon.request('GET', '/v1/timings')).json
  t.equal(timings.window, 2048)
  t.same(timings.write.map((s: { stage: string }) => s.stage), WRITE_STAGES)
  for (const s of [...timings.write, ...timings.propagation]) {
    t.equal(s.count, WRITES, `${s.stage} counted per write`)
    t.ok(s.p50Ms >= 0 && s.p99Ms >= s.p50Ms, `${s.stage} has a p50 and a p99 at or above it`)
  }
})

t.test('credreg status --timings prints every stage with its count', async t => {
  const { code, stdout, stderr } = await runCli(['status', '--timings'], { socket: daemon.socket })
  t.equal(code, 0, stderr)
  t.match(stdout, /^node\s+\S+/m, 'the status fields first')
  const rows = stdout.split('\n')
  t.match(rows.find(l => l.startsWith('PATH')), /^PATH\s+STAGE\s+COUNT\s+P50 MS\s+P99 MS$/)
  for (const [path, stages] of [['write', WRITE_STAGES], ['propagation', PROPAGATION_STAGES]] as const) {
    for (const stage of stages) {
      t.ok(rows.some(l => new RegExp(`^${path}\\s+${stage}\\s+${WRITES}\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d{3}$`).test(l)), `${path} ${stage}`)
    }
  }

  const json = await runCli(['status', '--timings', '--json'], { socket: daemon.socket })
  t.equal(json.code, 0, json.stderr)
  const doc = JSON.parse(json.stdout)
  t.equal(doc.nodeId, daemon.nodeId)
  t.equal(doc.timings.propagation.length, PROPAGATION_STAGES.length)

  const plain = await runCli(['status'], { socket: daemon.socket })
  t.notMatch(plain.stdout, /STAGE/, 'without --timings, no table')
})

t.test('in cluster mode every record read from the stream is timed once from its delivery', async t => {
  const nats = await startNatsServer()
  t.teardown(() => nats.stop())
  const clustered = await startDaemon({ nats: nats.url, keyFile: await writeKeyFile() })
  t.teardown(() => clustered.stop())
  for (let i = 0; i < 3; i++) t.equal((await clustered.request('PUT', `/v1/entities/app/k${i}`, { body: { n: i } })).status, 201)
  const c = await eventually(async () => {
    const found = await counts('credreg_propagation_stage_seconds', clustered)
    return found.applied === 3 && found
  }, 'the three applies to be timed')
  t.same(c, { delivered: 3, applied: 3, 'event-sent': 0 }, 'the stream\'s identity record is not a delivery; no watcher, no event')
  t.same(await eventually(async () => {
    const found = await counts('credreg_write_stage_seconds', clustered)
    return found.answered === 3 && found
  }, 'the last answer to be timed'), every(WRITE_STAGES, 3))
})
