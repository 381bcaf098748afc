import t from 'tap'
import type { NodeOptions } from '../../lib/types.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())

const logs: Array<[string, Pick<NodeOptions, 'nats' | 'namespace'>]> = [
  ['standalone', {}],
  ['JetStream', { nats: { servers: server.url }, namespace: 'samecid' }]
]

for (const [name, options] of logs) {
  t.test(`${name}: two writes with the same correlation id to different keys both land`, async t => {
    const node = await testNode(t, { dataKey: newDataKey(), ...options })
    const correlationId = '0190a6f0-0000-7000-8000-000000000001'
    const first = await node.put('cid/a', { n: 1 }, { correlationId })
    const second = await node.put('cid/b', { n: 2 }, { correlationId })
    t.not(second.seq, first.seq, 'each has a sequence of its own')
    t.match(await node.get('cid/b'), { version: 1, value: { n: 2 }, meta: { correlationId } }, 'the second is written, not taken for the first')
  })
}
