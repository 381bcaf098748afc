import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { startDaemon, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { openSse } from '../fixtures/sse-reader.js'

// Large values fill the daemon's per-watcher queue budget (8 MiB) with a few hundred writes.
const FILLER = 'x'.repeat(48 * 1024)

async function daemonWith (t: Test, args: string[]): Promise<{ d: DaemonProcess, agent: Agent }> {
  const d = await startDaemon({ args: ['--history', '1', ...args] })
  t.teardown(() => d.stop())
  const agent = new Agent({ connect: { socketPath: d.socket } })
  t.teardown(() => agent.close())
  return { d, agent }
}

/** Writes `count` large values under `prefix`, a few at a time. */
async function writeLarge (d: DaemonProcess, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, count - i) }, async (_, j) => {
      const res = await d.request('PUT', `/v1/entities/${prefix}${i + j}`, { body: { n: i + j, filler: FILLER } })
      if (res.status >= 300) throw new Error(`put: ${res.text}`)
    }))
  }
}

async function appliedSeq (d: DaemonProcess): Promise<number> {
  return (await d.request('GET', '/v1/status')).json.appliedSeq as number
}

async function metric (d: DaemonProcess, pattern: RegExp): Promise<number | undefined> {
  const m = pattern.exec((await d.request('GET', '/metrics')).text)
  return m === null ? undefined : Number(m[1])
}

t.test('a client that stops reading while thousands of writes land is closed with a final event, the daemon stays bounded, and Last-Event-ID resumes with everything after', async t => {
  const { d, agent } = await daemonWith(t, [])
  const start = await appliedSeq(d)
  const slow = await openSse(agent, `/v1/watch?prefix=slow/&since=${start}`)
  t.equal(slow.status, 200)
  let queued = 0
  for (let batch = 0; batch < 15; batch++) {
    await writeLarge(d, `slow/${batch}-`, 100) // 1,500 in all: ~100 MB of sealed values, over ten times the queue budget
    queued = Math.max(queued, await metric(d, /^credreg_watch_queued_bytes (\d+)$/m) ?? Infinity)
  }
  const end = await appliedSeq(d)
  t.ok(queued <= 8 * 1024 * 1024, `at most the 8 MiB budget was ever queued (${queued} bytes)`)
  t.equal(await metric(d, /^credreg_watch_queued_bytes (\d+)$/m), 0, 'and nothing is queued once the watcher is closed')

  const first = await slow.read(events => events.some(e => e.event === 'closed'))
  const closed = first.at(-1)
  t.match(closed, { event: 'closed', data: { code: 'WATCH_OVERFLOW', reason: 'overflow' } }, 'the last event says why')
  t.equal(closed?.id, undefined, 'and moves no resume point')
  const ids = first.filter(e => e.id !== undefined).map(e => e.id as number)
  t.ok(ids.length < 1500, `only ${ids.length} changes were delivered before the close`)
  t.equal(closed?.data.lastSeq, ids.at(-1), 'lastSeq is the id of the last change sent')
  t.ok(await metric(d, /^credreg_watch_overflows_total\{reason="overflow"\} (\d+)$/m) === 1, 'counted in the metrics')

  const resumed = await openSse(agent, '/v1/watch?prefix=slow/', { 'last-event-id': String(closed?.data.lastSeq) })
  const rest = await resumed.read(events => events.some(e => e.id === end))
  resumed.close()
  const all = [...ids, ...rest.filter(e => e.id !== undefined).map(e => e.id as number)]
  t.same(all, Array.from({ length: end - start }, (_, i) => start + i + 1), 'every change once, in order, across the close')
})

t.test('a client that never reads is given up after four heartbeat intervals: no watcher is held for it', async t => {
  const { d, agent } = await daemonWith(t, ['--sse-heartbeat-ms', '100'])
  await writeLarge(d, 'big/', 48) // a backlog far larger than the socket buffers
  const stuck = await openSse(agent, '/v1/watch?since=0')
  t.equal(stuck.status, 200)
  await eventually(async () => await metric(d, /^credreg_watch_overflows_total\{reason="stalled"\} (\d+)$/m) === 1, 'the stalled stream closed')
  await eventually(async () => await metric(d, /^credreg_watchers (\d+)$/m) === 0, 'no open watcher left')
  stuck.close()
})

t.test('beyond --max-watchers or --max-watch-replays the watch route answers 503 UNAVAILABLE with Retry-After at once', async t => {
  const { d, agent } = await daemonWith(t, ['--max-watchers', '2', '--max-watch-replays', '1'])
  await writeLarge(d, 'big/', 48)
  const replaying = await openSse(agent, '/v1/watch?since=0') // not read: it stays mid-backlog
  const live = await openSse(agent, '/v1/watch')
  t.same([replaying.status, live.status], [200, 200])

  const third = await d.request('GET', '/v1/watch')
  t.equal(third.status, 503)
  t.equal(third.headers['retry-after'], '1')
  t.match(third.json, { code: 'UNAVAILABLE', message: /watchers are open/ })

  live.close()
  await eventually(async () => await metric(d, /^credreg_watchers (\d+)$/m) === 1, 'the live watcher closed')
  const secondReplay = await d.request('GET', '/v1/watch?since=1')
  t.equal(secondReplay.status, 503, 'a second backlog replay waits for the first')
  t.equal(secondReplay.headers['retry-after'], '1')
  t.match(secondReplay.json, { code: 'UNAVAILABLE', message: /replaying/ })

  replaying.close()
  await eventually(async () => await metric(d, /^credreg_watchers (\d+)$/m) === 0, 'the replaying watcher closed')
  const next = await openSse(agent, '/v1/watch?since=0')
  t.equal(next.status, 200, 'slots are free again')
  next.close()
})
