import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, testNode } from '../fixtures/nodes.js'

t.test('with NATS stopped, reads work and writes fail; after a restart on the same store writes resume and nothing acknowledged is lost', async t => {
  const server = await startNatsServer()
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const a = await testNode(t, { dataKey, nats: { servers: server.url } })
  const b = await testNode(t, { dataKey, nats: { servers: server.url } })
  const acknowledged = new Map<string, number>()
  for (let i = 0; i < 20; i++) acknowledged.set(`k/${i}`, (await a.put(`k/${i}`, { i })).version)
  await caughtUp(b)

  await server.kill()
  t.same((await b.get('k/3')).value, { i: 3 }, 'reads are served by the replica')
  const failure = await a.put('k/0', { i: 'lost?' }).catch((err: unknown) => err)
  t.ok(isCredregError(failure, 'UNAVAILABLE') || isCredregError(failure, 'TIMEOUT'), `the write fails with UNAVAILABLE or TIMEOUT (${(failure as Error).message})`)
  await t.rejects(b.put('k/1', { i: 'x' }), { code: 'UNAVAILABLE' }, 'once the disconnect is known, writes fail with UNAVAILABLE')
  t.equal((await b.nodeStatus()).connected, false, 'status says the log is unreachable')

  await server.restart()
  await caughtUp(a)
  const after = await a.put('k/0', { i: 'after' })
  acknowledged.set('k/0', after.version)
  await caughtUp(b)
  for (const [key, version] of acknowledged) {
    t.ok((await b.get(key)).version >= version, `${key} keeps acknowledged version ${version}`)
  }
  t.same((await b.get('k/0')).value, { i: 'after' })
})

t.test('a node opened while NATS is unreachable serves its replica and connects later', async t => {
  const server = await startNatsServer()
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const a = await testNode(t, { dataKey, nats: { servers: server.url } })
  await a.put('x', { v: 1 })
  await server.kill()
  const b = await testNode(t, { dataKey, nats: { servers: server.url } })
  await t.rejects(b.get('x'), { code: 'NOT_FOUND' }, 'an empty replica answers from itself')
  await server.restart()
  await caughtUp(b)
  t.same((await b.get('x')).value, { v: 1 })
})
