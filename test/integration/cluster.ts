import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import { streamName } from '../../lib/log/jetstream-log.js'
import { streamLeader } from '../fixtures/faults/faults.js'
import { startNatsCluster } from '../fixtures/nats-cluster.js'
import { caughtUp, newDataKey, snapshot, testNode } from '../fixtures/nodes.js'

const WRITES_PER_PHASE = 20

t.test('3-node NATS cluster, R3 stream: writes continue after the stream leader is killed; no acknowledged write is lost', async t => {
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
  // Bounded in time too: under heavy load each failing write may take its whole timeout.
  const deadline = Date.now() + 90_000
  const writes = async (node: typeof nodes[number], w: number, from: number): Promise<number> => {
    let ok = 0
    for (let i = from; i < from + WRITES_PER_PHASE && Date.now() < deadline; i++) {
      const key = `w${w}/k${i % 10}`
      try {
        const r = await node.put(key, { i })
        acknowledged.set(key, Math.max(acknowledged.get(key) ?? 0, r.version))
        ok++
      } catch (err) {
        if (!isCredregError(err) || !err.retryable) throw err
        failures.push(`${key}: ${err.code}`)
      }
    }
    return ok
  }
  const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0)
  const before = sum(await Promise.all(nodes.map(async (node, w) => await writes(node, w, 0))))

  const leader = await streamLeader(cluster, streamName(nodes[0]!.namespace))
  // Servers are named n1, n2, … in the order of `cluster.servers`.
  const killed = cluster.servers[Number(leader.slice(1)) - 1]
  if (killed === undefined) throw new Error(`stream leader ${leader} is not one of the cluster's servers`)
  await killed.kill()
  const after = sum(await Promise.all(nodes.map(async (node, w) => await writes(node, w, WRITES_PER_PHASE))))

  t.equal(before, nodes.length * WRITES_PER_PHASE, 'every write before the kill is acknowledged')
  t.ok(after >= nodes.length * WRITES_PER_PHASE / 2, `writes go on after the stream leader is killed (${after} acknowledged, ${failures.length} retryable failures during fail-over: ${failures.slice(0, 5).join(', ')})`)
  const current = await streamLeader(cluster, streamName(nodes[0]!.namespace))
  t.not(current, leader, `the stream elected a new leader (${current})`)
  await Promise.all(nodes.map(async node => await caughtUp(node)))
  for (const [key, version] of acknowledged) {
    for (const node of nodes) t.ok((await node.get(key)).version >= version, `${key}@${version} on ${node.nodeId}`)
  }
  const [first, ...rest] = await Promise.all(nodes.map(snapshot))
  for (const other of rest) t.same(other, first, 'replicas are identical')
})
