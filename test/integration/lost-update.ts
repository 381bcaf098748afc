import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import type { CredregNode } from '../../lib/types.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, testNode } from '../fixtures/nodes.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())

async function increment (node: CredregNode, key: string, times: number): Promise<number> {
  let conflicts = 0
  for (let i = 0; i < times; i++) {
    for (;;) {
      const current = await node.get(key).catch(() => undefined)
      const n = (current?.value?.n as number | undefined) ?? 0
      try {
        await node.put(key, { n: n + 1 }, current === undefined ? { ifAbsent: true } : { ifVersion: current.version })
        break
      } catch (err) {
        if (!isCredregError(err, 'VERSION_CONFLICT')) throw err
        conflicts++
      }
    }
  }
  return conflicts
}

t.test('3 nodes x 200 read-modify-write increments of one counter lose no update', async t => {
  const dataKey = newDataKey()
  const nodes = await Promise.all([1, 2, 3].map(async () => await testNode(t, { dataKey, nats: { servers: server.url }, namespace: 'counter' })))
  const conflicts = await Promise.all(nodes.map(async node => await increment(node, 'stats/counter', 200)))
  const total = conflicts.reduce((a, b) => a + b, 0)
  t.ok(total > 0, `conflicts were observed and retried (${total})`)
  await Promise.all(nodes.map(async node => await caughtUp(node)))
  for (const node of nodes) {
    const counter = await node.get('stats/counter')
    t.equal(counter.value?.n, 600, `${node.nodeId} counts exactly 600`)
    t.equal(counter.version, 600, 'one version per increment, gapless')
  }
  const [first, ...rest] = await Promise.all(nodes.map(snapshot))
  for (const other of rest) t.same(other, first, 'replicas are identical, entity and history')
  t.equal(first?.history['stats/counter']?.length, 10, 'history keeps the default depth of 10')
})

t.test('writes without ifVersion retry internally and never overwrite blindly', async t => {
  const dataKey = newDataKey()
  const nodes = await Promise.all([1, 2, 3].map(async () => await testNode(t, { dataKey, nats: { servers: server.url }, namespace: 'patchers' })))
  await nodes[0]?.put('cfg', { hits: [] })
  await Promise.all(nodes.map(async node => await caughtUp(node)))
  // Each node appends its own entries with JSON Patch; a blind overwrite would drop some.
  await Promise.all(nodes.map(async (node, i) => {
    for (let j = 0; j < 30; j++) await node.patch('cfg', [{ op: 'add', path: '/hits/-', value: `${i}:${j}` }])
  }))
  await Promise.all(nodes.map(async node => await caughtUp(node)))
  const final = await nodes[1]?.get('cfg')
  t.equal((final?.value?.hits as string[]).length, 90, 'every patch landed')
  t.equal(final?.version, 91)
})
