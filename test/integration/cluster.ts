import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import { startNatsCluster } from '../fixtures/nats-cluster.js'
import { caughtUp, newDataKey, snapshot, testNode } from '../fixtures/nodes.js'

t.test('3-node NATS cluster, R3 stream: writes continue after a server is killed; no acknowledged write is lost', async t => {
  const cluster = await startNatsCluster()
  t.teardown(async () => await cluster.stop())
  const dataKey = newDataKey()
  // Each node prefers a different server, so the killed one had clients.
  const nodes = await Promise.all(cluster.urls.map(async (_, i) => await testNode(t, {
    dataKey,
    writeTimeoutMs: 10_000,
    nats: { servers: [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)], replicas: 3 }
  })))
  const acknowledged = new Map<string, number>()
  const failures: string[] = []
  let killed = false
  // Bounded in time too: under heavy load each failing write may take its whole timeout.
  const deadline = Date.now() + 90_000
  const writeLoop = async (node: typeof nodes[number], w: number): Promise<void> => {
    for (let i = 0; i < 60 && Date.now() < deadline; i++) {
      const key = `w${w}/k${i % 10}`
      try {
        const r = await node.put(key, { i })
        acknowledged.set(key, Math.max(acknowledged.get(key) ?? 0, r.version))
      } catch (err) {
        if (!isCredregError(err) || !err.retryable) throw err
        failures.push(`${key}: ${err.code}`)
      }
      if (w === 0 && i === 20 && !killed) {
        killed = true
        await cluster.servers[0]?.kill()
      }
    }
  }
  await Promise.all(nodes.map(writeLoop))
  t.ok(killed, 'a server was killed mid-stream')
  t.ok(acknowledged.size >= 25, `writes went on (${acknowledged.size} keys acknowledged, ${failures.length} retryable failures during fail-over)`)
  await Promise.all(nodes.map(async node => await caughtUp(node)))
  for (const [key, version] of acknowledged) {
    for (const node of nodes) t.ok((await node.get(key)).version >= version, `${key}@${version} on ${node.nodeId}`)
  }
  const [first, ...rest] = await Promise.all(nodes.map(snapshot))
  for (const other of rest) t.same(other, first, 'replicas are identical')
  // Writes after the fail-over land on the surviving quorum.
  const after = await nodes[0]?.put('after/failover', { ok: true })
  t.equal(after?.version, 1)
})
