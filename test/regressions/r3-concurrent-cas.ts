import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import { startNatsCluster } from '../fixtures/nats-cluster.js'
import { caughtUp, newDataKey, testNode } from '../fixtures/nodes.js'

const ROUNDS = 100

t.test('on an R3 stream, of concurrent writes on the same version through three nodes at most one is acknowledged', async t => {
  const cluster = await startNatsCluster()
  t.teardown(async () => { await cluster.stop() })
  const dataKey = newDataKey()
  const nodes = []
  for (let i = 0; i < 3; i++) nodes.push(await testNode(t, { dataKey, nats: { servers: cluster.urls, replicas: 3 } }))
  let doubled = 0
  let acknowledged = 0
  const examples: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    // Every node caught up first, so that each one writes on the version read; only NOT_FOUND means "no version yet".
    await Promise.all(nodes.map(async n => await caughtUp(n)))
    const current = await nodes[0]!.get('race/k').catch(err => {
      if (isCredregError(err, 'NOT_FOUND')) return undefined
      throw err
    })
    const count = (current?.value as { count: number } | undefined)?.count ?? 0
    const results = await Promise.all(nodes.map(async (n, i) => {
      try {
        const options = current === undefined ? { ifAbsent: true } : { ifVersion: current.version }
        return (await n.put('race/k', { count: count + 1, round, node: i }, options)).version
      } catch (err) {
        if (isCredregError(err, 'VERSION_CONFLICT')) return undefined
        throw err
      }
    }))
    const acked = results.filter(v => v !== undefined)
    acknowledged += acked.length
    if (acked.length > 1) {
      doubled++
      if (examples.length < 3) examples.push(`round ${round}: ${acked.length} writes acknowledged as version ${acked.join(', ')}`)
    }
  }
  await Promise.all(nodes.map(async n => await caughtUp(n)))
  const rejected = (await nodes[0]!.nodeStatus()).rejected
  t.equal(doubled, 0, `no round acknowledges two writes on one version (${doubled}/${ROUNDS}: ${examples.join('; ')}; replica rejections ${JSON.stringify(rejected)})`)
  t.ok(acknowledged > 0, `writes were acknowledged (${acknowledged})`)
  for (const node of nodes) {
    const final = await node.get('race/k')
    t.equal((final.value as { count: number }).count, acknowledged, `every acknowledged increment counted on ${node.nodeId}`)
    t.equal(final.version, acknowledged, `one version per acknowledged write on ${node.nodeId}`)
  }
})
