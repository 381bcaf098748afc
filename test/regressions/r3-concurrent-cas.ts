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
  const examples: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const current = await nodes[0]!.get('race/k').then(e => e.version, () => 0)
    await Promise.all(nodes.map(async n => await caughtUp(n)))
    const results = await Promise.all(nodes.map(async (n, i) => {
      try {
        const options = current === 0 ? { ifAbsent: true } : { ifVersion: current }
        return (await n.put('race/k', { round, node: i }, options)).version
      } catch (err) {
        if (isCredregError(err, 'VERSION_CONFLICT')) return undefined
        throw err
      }
    }))
    const acked = results.filter(v => v !== undefined)
    if (acked.length > 1) {
      doubled++
      if (examples.length < 3) examples.push(`round ${round}: ${acked.length} writes acknowledged as version ${acked.join(', ')}`)
    }
  }
  await Promise.all(nodes.map(async n => await caughtUp(n)))
  const rejected = (await nodes[0]!.nodeStatus()).rejected
  t.equal(doubled, 0, `no round acknowledges two writes on one version (${doubled}/${ROUNDS}: ${examples.join('; ')}; replica rejections ${JSON.stringify(rejected)})`)
})
