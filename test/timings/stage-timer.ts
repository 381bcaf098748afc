/**
 * The stage timing pieces on their own: a write's marks, the reservoir's
 * percentiles, and the daemon's summary and histograms fed from them.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Registry } from 'prom-client'
import t from 'tap'
import { Reservoir } from '../../lib/timings/reservoir.js'
import { RESERVOIR_SIZE, StageTimings } from '../../lib/timings/stage-timings.js'
import type { NodePropagationStage, NodeWriteStage, TimingHook } from '../../lib/timings/stages.js'
import { WriteTimer } from '../../lib/timings/write-timer.js'
import type { AppliedChange } from '../../lib/replica/replica.js'

function recorder (): { hook: TimingHook, writes: Array<[NodeWriteStage, number]>, propagation: Array<[NodePropagationStage, number]> } {
  const writes: Array<[NodeWriteStage, number]> = []
  const propagation: Array<[NodePropagationStage, number]> = []
  return { hook: { write: (s, v) => writes.push([s, v]), propagation: (s, v) => propagation.push([s, v]) }, writes, propagation }
}

t.test('a write timer reports each stage reached once, in order, in seconds, only when done', async t => {
  const { hook, writes } = recorder()
  const timer = new WriteTimer(hook)
  timer.mark('checked')
  await sleep(20)
  timer.mark('sealed')
  timer.mark('published')
  timer.mark('applied')
  t.same(writes, [], 'nothing before the write succeeds')
  timer.done()
  t.same(writes.map(([stage]) => stage), ['checked', 'sealed', 'published', 'applied'])
  const sealed = writes[1]?.[1] as number
  t.ok(sealed >= 0.015 && sealed < 5, `the 20 ms pause counts to sealed, in seconds (${sealed})`)
  t.ok(writes.every(([, s]) => s >= 0))
})

t.test('a stage reached again (a retry) adds up, and a stage never reached is not reported', async t => {
  const { hook, writes } = recorder()
  const timer = new WriteTimer(hook)
  timer.mark('checked')
  await sleep(10)
  timer.mark('checked')
  timer.mark('sealed')
  timer.done()
  t.same(writes.map(([stage]) => stage), ['checked', 'sealed'])
  t.ok((writes[0]?.[1] as number) >= 0.008, 'both checks count to checked')
})

t.test('the reservoir gives nearest-rank percentiles of its latest samples', async t => {
  const r = new Reservoir(100)
  t.equal(r.quantile(0.5), undefined, 'none before the first sample')
  for (let i = 1; i <= 100; i++) r.add(i)
  t.equal(r.count, 100)
  t.equal(r.quantile(0.5), 50)
  t.equal(r.quantile(0.99), 99)
  t.equal(r.quantile(1), 100)
  for (let i = 0; i < 100; i++) r.add(1000)
  t.equal(r.count, 200, 'the count is of every sample')
  t.equal(r.quantile(0.5), 1000, 'the percentiles only of the latest')
})

t.test('stage timings summarise every stage and feed the stage histograms', async t => {
  const timings = new StageTimings()
  const registry = new Registry()
  timings.register(registry)
  for (let i = 0; i < 3; i++) {
    timings.write('parsed', 0.0001)
    timings.write('published', 0.002)
  }
  timings.propagation('applied', 0.0005)
  const changes = [{ key: 'a', prevVersion: 0, stored: { seq: 7 } }] as unknown as AppliedChange[]
  timings.committed(changes)
  timings.eventSent(7)
  timings.eventSent(3)
  const summary = timings.summary()
  t.equal(summary.window, RESERVOIR_SIZE)
  t.same(summary.write.map(s => s.stage), ['parsed', 'checked', 'sealed', 'published', 'applied', 'answered'])
  t.same(summary.propagation.map(s => s.stage), ['delivered', 'applied', 'event-sent'])
  t.match(summary.write[0], { stage: 'parsed', count: 3, p50Ms: 0.1, p99Ms: 0.1 })
  t.match(summary.write[3], { stage: 'published', count: 3, p50Ms: 2, p99Ms: 2 })
  t.same(summary.write[1], { stage: 'checked', count: 0 }, 'no percentiles without samples')
  t.match(summary.propagation[2], { stage: 'event-sent', count: 1 }, 'only a change whose commit was noted is timed')
  const text = await registry.metrics()
  t.match(text, /credreg_write_stage_seconds_count\{stage="published"\} 3/)
  t.match(text, /credreg_write_stage_seconds_count\{stage="checked"\} 0/, 'every stage is exposed from the start')
  t.match(text, /credreg_propagation_stage_seconds_count\{stage="event-sent"\} 1/)
  t.match(text, /credreg_write_stage_seconds_bucket\{le="0.0001",stage="parsed"\} 3/, 'sub-millisecond buckets')
})
