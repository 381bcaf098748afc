import t from 'tap'
import type { ChangeEvent } from '../../lib/types.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'
import { openNode } from '../../lib/node.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
const nats = { servers: server.url }

t.test('a node closed while 500 writes land elsewhere catches up to identical state and history', async t => {
  const dataKey = newDataKey()
  const writer = await testNode(t, { dataKey, nats, namespace: 'catchup' })
  const dir = await tempDir(t)
  const sleeper = await openNode({ dataDir: dir, dataKey, nats, namespace: 'catchup' })
  await writer.put('svc/0', { n: 0 })
  await caughtUp(sleeper)
  await sleeper.close()
  for (let i = 0; i < 500; i++) await writer.put(`svc/${i % 50}`, { n: i })
  await writer.delete('svc/7')
  const back = await testNode(t, { dataDir: dir, dataKey, nats, namespace: 'catchup' })
  await caughtUp(back)
  t.same(await snapshot(back), await snapshot(writer), 'identical entities and history')
  t.equal((await back.nodeStatus()).entities, 49)
})

t.test('a node offline past the per-key limit converges; its history and watchers see the jump', async t => {
  const dataKey = newDataKey()
  const options = { dataKey, nats, namespace: 'jump', historyDepth: 3 }
  const writer = await testNode(t, options)
  const dir = await tempDir(t)
  let sleeper = await openNode({ ...options, dataDir: dir })
  const first = await writer.put('db/pass', { p: 'v1' })
  await caughtUp(sleeper)
  await sleeper.close()
  for (let i = 2; i <= 8; i++) await writer.put('db/pass', { p: `v${i}` })
  // This node keeps more history than the stream retains per key, so its history can show the jump.
  sleeper = await testNode(t, { ...options, historyDepth: 5, dataDir: dir })
  const events: ChangeEvent[] = []
  const watching = (async () => {
    for await (const event of sleeper.watch('db/', { since: first.seq })) {
      events.push(event)
      if (event.version === 8) break
    }
  })()
  await caughtUp(sleeper)
  await watching
  t.same((await sleeper.get('db/pass')).value, { p: 'v8' }, 'converged on the newest value')
  t.same((await sleeper.history('db/pass')).map(h => h.version), [1, 6, 7, 8], 'history shows the jump from 1 to 6')
  t.same(events.map(e => [e.prevVersion, e.version]), [[1, 6], [6, 7], [7, 8]], 'the first event says what was held before: the jump is explicit')
})
