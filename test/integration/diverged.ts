import t from 'tap'
import { rm } from 'node:fs/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, divergence, newDataKey, tempDir, testNode } from '../fixtures/nodes.js'

t.test('losing the JetStream store is detected by identity: the node refuses the new stream, keeps its replica and refuses writes', async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const a = await testNode(t, { dataKey, nats: { servers: server.url } })
  for (let i = 0; i < 10; i++) await a.put(`k/${i}`, { i })
  const appliedBefore = (await a.nodeStatus()).appliedSeq
  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await server.restart()

  // A node with an empty replica may create the stream anew and write to it.
  const fresh = await testNode(t, { dataKey, nats: { servers: server.url } })
  await fresh.put('new/1', { after: 'loss' })

  // Depending on timing it meets the stream missing or already recreated: either way, not its own.
  t.match(await divergence(a), /deleted and recreated|does not exist/, 'the old node says so')
  await t.rejects(a.put('k/0', { i: 'x' }), { code: 'LOG_DIVERGED' }, 'and refuses writes')
  t.same((await a.get('k/9')).value, { i: 9 }, 'reads still serve the untouched replica')
  await t.rejects(a.get('new/1'), { code: 'NOT_FOUND' }, 'nothing of the new history was mixed in')
  const status = await a.nodeStatus()
  t.equal(status.appliedSeq, appliedBefore, 'the applied position did not move')
  t.equal(status.entities, 10)
})

t.test('a stream deleted and recreated while a node was closed is refused at reopen', async t => {
  const server = await startNatsServer()
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const dir = await tempDir(t)
  const options = { dataKey, nats: { servers: server.url }, namespace: 'gone' }
  const first = await testNode(t, { ...options, dataDir: dir })
  await first.put('x', { v: 1 })
  await caughtUp(first)
  await first.close()
  const nc = await connect({ servers: server.url })
  await (await jetstreamManager(nc)).streams.delete('CREDREG_gone')
  await nc.close()
  const again = await testNode(t, { ...options, dataDir: dir })
  t.match(await divergence(again), /does not exist/, 'a missing stream is not silently recreated by a node that was built from one')
  await t.rejects(again.put('x', { v: 2 }), { code: 'LOG_DIVERGED' })
  t.same((await again.get('x')).value, { v: 1 })
})
