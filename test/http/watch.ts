import t from 'tap'
import { pino } from 'pino'
import { Agent } from 'undici'
import { watchLoad } from '../../lib/node.js'
import { Metrics } from '../../lib/http/metrics.js'
import { createHttpServer } from '../../lib/http/server.js'
import { shortTempDir } from '../fixtures/daemon.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'
import { openSse } from '../fixtures/sse-reader.js'

// In process, unlike the daemon tests, so the node's listeners can be counted.
t.test('a thousand SSE watchers that disconnect mid-backlog or live leave no listener, slot or queued byte behind', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), historyDepth: 1 })
  const filler = 'x'.repeat(48 * 1024)
  for (let i = 0; i < 40; i++) await node.put(`big/${i}`, { i, filler }) // a backlog larger than the socket buffers
  const app = await createHttpServer({
    context: {
      node,
      peers: { nodes: async () => [] },
      metrics: new Metrics(),
      info: { hostname: 'test', startedAt: new Date(), version: '0.0.0' },
      sseHeartbeatMs: 15_000
    },
    logger: pino({ level: 'silent' }),
    bodyLimit: 1024 * 1024
  })
  const socketPath = `${await shortTempDir(t)}/w.sock`
  await app.listen({ path: socketPath })
  t.teardown(() => app.close())
  const agent = new Agent({ connect: { socketPath } })
  t.teardown(() => agent.close())

  const listeners = (): Record<string, number> => Object.fromEntries(process.eventNames().map(name => [String(name), process.listenerCount(name)]))
  const before = { load: watchLoad(node), process: listeners() }
  for (let i = 0; i < 1000; i++) {
    const replay = i % 2 === 0
    const sse = await openSse(agent, replay ? '/v1/watch?since=0' : '/v1/watch?prefix=big/')
    if (replay) await sse.read(events => events.length > 0) // the first of the backlog, the rest still to send
    sse.close()
  }
  const idle = async (): Promise<void> => {
    while (watchLoad(node)?.watchers !== 0) await new Promise(resolve => setTimeout(resolve, 10))
  }
  await idle()
  t.same({ load: watchLoad(node), process: listeners() }, before)
  t.same(watchLoad(node), { watchers: 0, replays: 0, queuedBytes: 0, appliedListeners: 0 })
})
