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
