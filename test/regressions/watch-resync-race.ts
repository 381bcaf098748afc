import t from 'tap'
import type { ChangeEvent } from '../../lib/types.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'

t.test('a resumed watch whose key needs a resync and changes again while the backlog is read still gets a resync or every change', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), historyDepth: 2 })
  for (let i = 1; i <= 5; i++) await node.put('a', { v: i }) // seqs 1..5: a keeps versions 4 and 5
  const watch = node.watch('', { since: 1 }) // a watcher that last saw version 1 of a
  await node.put('a', { v: 6 }) // applied after the watch started, before its backlog is read
  const first = await watch.next()
  await watch.return?.()
  const event = first.value as ChangeEvent
  const explicit = event.op === 'resync' || event.prevVersion === 1
  t.ok(explicit, `the first event is a resync or says it follows version 1 (got ${event.op} v${event.version} prevVersion ${event.prevVersion})`)
})

t.test('a resumed watch replays versions that the apply loop prunes while the backlog is being read', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), historyDepth: 3 })
  for (let i = 1; i <= 3; i++) await node.put('a', { v: i }) // a keeps versions 1, 2, 3
  const watch = node.watch('', { since: 1 }) // a watcher that last saw version 1
  // Applied before the backlog is read: versions 1 and 2 drop out of the replica's history.
  await node.put('a', { v: 4 })
  await node.put('a', { v: 5 })
  const seen: Array<[string, number, number]> = []
  for (let i = 0; i < 4; i++) {
    const { value } = await watch.next()
    const e = value as ChangeEvent
    seen.push([e.op, e.version, e.prevVersion])
  }
  await watch.return?.()
  t.same(seen, [['put', 2, 1], ['put', 3, 2], ['put', 4, 3], ['put', 5, 4]], 'every version once, in order, as of the moment the watch started')
})
