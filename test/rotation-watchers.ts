/**
 * Watching rotations on a node: live events in log order, a bounded queue,
 * a cap on open watchers, and every way a watch ends (signal, return, the
 * node closing) releasing what it holds.
 */
import { EventEmitter } from 'node:events'
import t from 'tap'
import { ROTATION_QUEUE_EVENTS, RotationWatchers } from '../lib/rotations/rotation-watchers.js'
import type { Replica } from '../lib/replica/replica.js'
import type { RotationEvent } from '../lib/types.js'
import { newDataKey, testNode } from './fixtures/nodes.js'

/** A stand-in for the replica: the watchers only listen to its `rotations` events. */
function emitter (): EventEmitter & Replica {
  return new EventEmitter() as EventEmitter & Replica
}

const event = (seq: number): RotationEvent => ({ event: 'acked', rotation: 'r', seq, nodeId: 'a', ok: true })

t.test('a node\'s watcher gets staged, acked and released in log order, from the call on; closing the node ends it', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  await node.put('db/pass', { secret: 'old' })
  const before = await node.stage([{ key: 'db/pass', op: 'put', value: { secret: 'older' } }])
  const events = node.watchRotations()
  await node.abort(before.id, { reason: 'superseded' })
  const staged = await node.stage([{ key: 'db/pass', op: 'put', value: { secret: 'new' } }])
  await node.ack(staged.id, { ok: true, message: 'login ok' })
  const released = await node.release(staged.id)
  const seen: RotationEvent[] = []
  for (let e = await events.next(); e.done !== true; e = await events.next()) {
    seen.push(e.value)
    if (e.value.event === 'released') break
  }
  t.same(seen.map(e => [e.event, e.rotation]), [['aborted', before.id], ['staged', staged.id], ['acked', staged.id], ['released', staged.id]], 'nothing from before the call')
  t.match(seen[0], { message: 'superseded', nodeId: node.nodeId })
  t.match(seen[2], { ok: true, message: 'login ok', nodeId: node.nodeId })
  t.match(seen[3], { seq: released.closed?.seq, forced: false })
  t.same(seen.map(e => e.seq), [...seen.map(e => e.seq)].sort((a, b) => a - b))
  const pending = events.next()
  await node.close()
  t.same(await pending, { done: true, value: undefined }, 'a waiting read ends when the node closes')
  t.throws(() => node.watchRotations(), { code: 'CLOSED' })
})

t.test('a signal or return() ends a watcher, even before its first read, and frees its place under the cap', async t => {
  const replica = emitter()
  const watchers = new RotationWatchers(1)
  const controller = new AbortController()
  const first = watchers.open(replica, controller.signal)
  t.throws(() => watchers.open(replica, undefined), { code: 'UNAVAILABLE' }, 'one over the cap is refused at once')
  controller.abort()
  t.same(await first.next(), { done: true, value: undefined })
  t.equal(watchers.size, 0)
  t.equal(replica.listenerCount('rotations'), 0, 'it stopped listening')

  const second = watchers.open(replica, undefined)
  t.same(await second.return?.(), { done: true, value: undefined })
  t.equal(watchers.size, 0, 'return() before any read released it')
  t.equal(replica.listenerCount('rotations'), 0)

  const aborted = new AbortController()
  aborted.abort()
  t.same(await watchers.open(replica, aborted.signal).next(), { done: true, value: undefined }, 'an aborted signal: ended from the start')
})

t.test('a watcher that leaves too many events untaken ends with WATCH_OVERFLOW; one that keeps up does not', async t => {
  const replica = emitter()
  const watchers = new RotationWatchers(10)
  const slow = watchers.open(replica, undefined)
  const steady = watchers.open(replica, undefined)
  const taken: number[] = []
  for (let seq = 1; seq <= ROTATION_QUEUE_EVENTS + 1; seq++) {
    replica.emit('rotations', [event(seq)])
    const e = await steady.next()
    if (e.done !== true) taken.push(e.value.seq)
  }
  t.equal(taken.length, ROTATION_QUEUE_EVENTS + 1, 'the steady one took every event')
  await t.rejects(slow.next(), { code: 'WATCH_OVERFLOW' })
  await t.rejects(slow.next(), { code: 'WATCH_OVERFLOW' }, 'and keeps saying so')
  t.equal(watchers.size, 1, 'the overflowed watcher let go of its place')
  watchers.closeAll()
  t.same(await steady.next(), { done: true, value: undefined })
  t.equal(replica.listenerCount('rotations'), 0)
})
