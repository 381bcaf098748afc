import t from 'tap'
import { pino } from 'pino'
import { Agent } from 'undici'
import { watchLoad } from '../../lib/node.js'
import { Metrics } from '../../lib/http/metrics.js'
import { TokenStore } from '../../lib/daemon/token-store.js'
import { createHttpServer } from '../../lib/http/server.js'
import { shortTempDir } from '../fixtures/daemon.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'
import { openSse } from '../fixtures/sse-reader.js'

// A daemon without tokens: the socket's mode alone decides who may call.
const noTokens = await TokenStore.open(`${await shortTempDir(t)}/tokens.json`)

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
      sseHeartbeatMs: 15_000,
      tokens: noTokens
    },
    logger: pino({ level: 'silent' }),
    bodyLimit: 1024 * 1024,
    auth: { listener: 'apps', tokens: noTokens }
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

t.test('the changes of a changeset carry no event id but the last, so a stream cut in the middle of one resumes from before it', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  const app = await createHttpServer({
    context: { node, peers: { nodes: async () => [] }, metrics: new Metrics(), info: { hostname: 'test', startedAt: new Date(), version: '0.0.0' }, sseHeartbeatMs: 15_000, tokens: noTokens },
    logger: pino({ level: 'silent' }),
    bodyLimit: 1024 * 1024,
    auth: { listener: 'apps', tokens: noTokens }
  })
  const socketPath = `${await shortTempDir(t)}/w.sock`
  await app.listen({ path: socketPath })
  t.teardown(() => app.close())
  const agent = new Agent({ connect: { socketPath } })
  t.teardown(() => agent.close())
  const first = await node.put('cs/x', { n: 1 })
  const { seq } = await node.commit([{ key: 'cs/a', op: 'put', value: { a: 1 } }, { key: 'cs/b', op: 'put', value: { b: 1 } }, { key: 'cs/c', op: 'put', value: { c: 1 } }])
  await node.put('cs/x', { n: 2 })
  const sse = await openSse(agent, '/v1/watch?since=0')
  const events = await sse.read(e => e.length === 5)
  sse.close()
  t.same(events.map(e => [e.id, e.data.key, e.data.changeset?.index]), [
    [first.seq, 'cs/x', undefined], [undefined, 'cs/a', 0], [undefined, 'cs/b', 1], [seq, 'cs/c', 2], [seq + 1, 'cs/x', undefined]
  ])
  // What Last-Event-ID is after the first two changes of the changeset: the changeset comes again, whole.
  const resumed = await openSse(agent, '/v1/watch', { 'last-event-id': String(first.seq) })
  t.same((await resumed.read(e => e.length === 4)).map(e => e.data.key), ['cs/a', 'cs/b', 'cs/c', 'cs/x'])
  resumed.close()
})
