import t from 'tap'
import { watchLoad } from '../lib/node.js'
import type { ChangeEvent, CredregNode } from '../lib/types.js'
import { newDataKey, testNode } from './fixtures/nodes.js'

async function take (iterator: AsyncIterableIterator<ChangeEvent>, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = []
  while (out.length < n) {
    const next = await iterator.next()
    if (next.done === true) break
    out.push(next.value)
  }
  return out
}

async function writeMany (node: CredregNode, n: number, prefix = 'k/'): Promise<void> {
  for (let i = 0; i < n; i++) await node.put(`${prefix}${i % 3}`, { i })
}

t.test('a live watch delivers every change under its prefix, in log order', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  const watch = node.watch('k/')
  await writeMany(node, 6)
  await node.put('other/x', { ignored: true })
  await node.delete('k/0')
  const events = await take(watch, 7)
  await watch.return?.()
  t.same(events.map(e => e.seq), [1, 2, 3, 4, 5, 6, 8], 'in order, without the other prefix')
  t.same(events.map(e => [e.key, e.version, e.prevVersion]), [
    ['k/0', 1, 0], ['k/1', 1, 0], ['k/2', 1, 0], ['k/0', 2, 1], ['k/1', 2, 1], ['k/2', 2, 1], ['k/0', 3, 2]
  ])
  const del = events.at(-1) as ChangeEvent
  t.equal(del.op, 'delete')
  t.equal(del.value, undefined)
  t.same(events[3]?.patch, [{ op: 'replace', path: '/i', value: 3 }])
  t.same(events[3]?.value, { i: 3 })
})

t.test('a watch resumed from a sequence gets every later change, then live ones, with no duplicate', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  await writeMany(node, 9)
  const watch = node.watch('', { since: 4 })
  const writing = writeMany(node, 3, 'live/')
  const events = await take(watch, 8)
  await writing
  await watch.return?.()
  t.same(events.map(e => e.seq), [5, 6, 7, 8, 9, 10, 11, 12])
})

t.test('where retention no longer reaches, the watcher gets one resync event per key, never a silent skip', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), historyDepth: 2 })
  await node.put('a', { v: 1 }) // seq 1
  await node.put('b', { v: 1 }) // seq 2
  for (let i = 2; i <= 5; i++) await node.put('a', { v: i }) // seqs 3..6: a keeps versions 4 and 5
  await node.delete('b') // seq 7
  const events = await take(node.watch('', { since: 1 }), 3)
  const resync = events.find(e => e.op === 'resync')
  t.match(resync, { key: 'a', version: 5, value: { v: 5 }, deleted: false }, 'a lost versions 2 and 3 locally: resync with its current state')
  t.same(events.filter(e => e.op !== 'resync').map(e => [e.key, e.version, e.op]), [['b', 1, 'put'], ['b', 2, 'delete']], 'keys still fully retained replay normally')
  const recent = await take(node.watch('', { since: 5 }), 2)
  t.same(recent.map(e => [e.key, e.version, e.op]), [['a', 5, 'put'], ['b', 2, 'delete']], 'a watcher that is recent enough replays')
})

t.test('a watch stops when its signal aborts or the node closes', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  const controller = new AbortController()
  const watch = node.watch('', { signal: controller.signal })
  const pending = watch.next()
  controller.abort()
  t.same(await pending, { done: true, value: undefined })
  const other = node.watch('')
  const next = other.next()
  await node.close()
  t.same(await next, { done: true, value: undefined }, 'closing the node ends its watches')
})

t.test('watch arguments are checked', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  t.throws(() => node.watch('bad prefix'), { code: 'INVALID_KEY' })
  t.throws(() => node.watch('', { since: -1 }), { code: 'BAD_REQUEST' })
})

t.test('a watcher whose consumer does not keep up ends with WATCH_OVERFLOW instead of buffering; resuming from its last seq gets the rest', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), watchQueueBytes: 64 * 1024 })
  const watch = node.watch('slow/')
  await node.put('slow/a', { n: 0 })
  const [first] = await take(watch, 1)
  const filler = 'x'.repeat(2000)
  for (let n = 1; n <= 60; n++) await node.put(`slow/${n}`, { n, filler }) // ~60 × 3 KB sealed: over 64 KiB
  await t.rejects(watch.next(), { code: 'WATCH_OVERFLOW', retryable: true }, 'the next read says why the watch ended')
  t.same(await watch.next(), { done: true, value: undefined }, 'and the watch is over')
  const resumed = node.watch('slow/', { since: first!.seq })
  const rest = await take(resumed, 60)
  await resumed.return?.()
  t.same(rest.map(e => e.value?.n), Array.from({ length: 60 }, (_, i) => i + 1), 'every change after the last one taken, once')
})

t.test('a consumer that keeps up is never overflowed, however many changes pass', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), watchQueueBytes: 64 * 1024 })
  const watch = node.watch('fast/')
  const filler = 'x'.repeat(2000)
  for (let n = 1; n <= 60; n++) {
    await node.put('fast/k', { n, filler })
    t.equal((await watch.next()).value?.version, n)
  }
  await watch.return?.()
})

t.test('watchers and backlog replays beyond the caps are refused at once with UNAVAILABLE, and closing one frees its slot', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), maxWatchers: 3, maxWatchReplays: 1 })
  await writeMany(node, 5)
  const replay = node.watch('', { since: 0 })
  t.throws(() => node.watch('', { since: 2 }), { code: 'UNAVAILABLE', retryable: true }, 'a second replay waits for the first')
  const live = node.watch('')
  const caughtUpWatch = node.watch('', { since: 5 })
  t.throws(() => node.watch(''), { code: 'UNAVAILABLE' }, 'a fourth watcher is over the cap')
  await take(replay, 5)
  const waiting = replay.next() // past its backlog: the replay is live now
  while (watchLoad(node)?.replays !== 0) await new Promise(resolve => setImmediate(resolve))
  await caughtUpWatch.return?.()
  const again = node.watch('', { since: 0 })
  t.equal((await again.next()).value?.seq, 1, 'the first replay went live, so another may replay')
  await Promise.all([replay.return?.(), live.return?.(), again.return?.()])
  t.same(await waiting, { done: true, value: undefined })
})

t.test('a thousand watchers opened and closed every way leave no listener and no slot behind', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), maxWatchers: 2, maxWatchReplays: 1 })
  await writeMany(node, 3)
  const before = { ...watchLoad(node), process: processListeners() }
  for (let i = 0; i < 1000; i++) {
    const controller = new AbortController()
    const since = i % 2 === 0 ? 0 : undefined
    const watch = node.watch('k/', { ...(since !== undefined ? { since } : {}), signal: controller.signal })
    switch (i % 4) {
      case 0: await watch.return?.(); break // never read
      case 1: { const pending = watch.next(); controller.abort(); await pending; break } // aborted while waiting
      case 2: await watch.next(); await watch.return?.(); break // mid-backlog
      case 3: controller.abort(); await watch.next(); break // aborted before reading
    }
  }
  t.same({ ...watchLoad(node), process: processListeners() }, before)
  t.same(watchLoad(node), { watchers: 0, replays: 0, queuedBytes: 0, appliedListeners: 0 })
})

function processListeners (): Record<string, number> {
  return Object.fromEntries(process.eventNames().map(name => [String(name), process.listenerCount(name)]))
}
