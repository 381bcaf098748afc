import t from 'tap'
import { cp, rm } from 'node:fs/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { startNatsServer } from '../fixtures/nats-server.js'
import { eventually } from '../fixtures/eventually.js'
import { caughtUp, divergence, newDataKey, tempDir, testNode } from '../fixtures/nodes.js'
import type { ChangeEvent, CredregNode } from '../../lib/types.js'
import { SigningKey } from '../../lib/identity/signing-key.js'
import { policyAccess } from '../../lib/node.js'
import { grant, hostKeyOf, policyRecord } from '../fixtures/policy.js'

/** Resolves once `node` follows its log again, caught up. */
async function following (node: CredregNode): Promise<void> {
  await eventually(async () => {
    const s = await node.nodeStatus()
    return s.diverged === undefined && s.lag === 0 && s.connected
  }, `${node.nodeId} to follow the reseeded log`)
}

/** key → [version, value] of every live key. */
async function state (node: CredregNode): Promise<Record<string, [number, unknown]>> {
  const out: Record<string, [number, unknown]> = {}
  for (const { key } of (await node.list('', { limit: 1000 })).items) {
    const e = await node.get(key)
    out[key] = [e.version, e.value]
  }
  return out
}

t.test('after the JetStream store is lost, a reseed from the stalest replica restores every acknowledged version, and the others adopt it by themselves', async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const dirB = await tempDir(t)
  const a = await testNode(t, { dataKey, nats })
  let b = await testNode(t, { dataKey, nats, dataDir: dirB })
  const c = await testNode(t, { dataKey, nats })
  for (let i = 0; i < 6; i++) await a.put(`svc/${i}/db`, { i, round: 0 })
  await a.delete('svc/5/db')
  await caughtUp(b)
  await b.close()
  // B is offline while these land: its replica is the stalest.
  const acked = new Map<string, { version: number, value: unknown }>()
  for (let round = 1; round <= 12; round++) {
    for (let i = 0; i < 5; i++) {
      const writer = (round + i) % 2 === 0 ? a : c
      const key = `svc/${i}/db`
      const value = { i, round }
      const r = await writer.put(key, value)
      acked.set(key, { version: r.version, value })
    }
  }
  await c.put('only/c', { late: true })
  acked.set('only/c', { version: 1, value: { late: true } })
  await caughtUp(a)
  await caughtUp(c)
  const before = await state(a)
  const appliedBefore = (await a.nodeStatus()).appliedSeq

  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await server.restart()

  b = await testNode(t, { dataKey, nats, dataDir: dirB })
  for (const node of [a, b, c]) t.match(await divergence(node), /does not exist/, 'every replica refuses the empty server')
  await t.rejects(a.put('svc/0/db', { lost: true }), { code: 'LOG_DIVERGED' }, 'no write lands before the reseed')

  const events: ChangeEvent[] = []
  const watching = new AbortController()
  const watched = (async () => {
    for await (const e of b.watch('svc/', { signal: watching.signal })) events.push(e)
  })()

  const result = await b.reseed()
  t.not(result.identity, result.previous, 'a new history')
  t.ok(result.versions > 0, `B contributed its versions (${result.versions})`)

  for (const node of [a, b, c]) {
    await following(node)
    await caughtUp(node)
  }
  const after = await eventually(async () => {
    const s = await state(b)
    return JSON.stringify(s) === JSON.stringify(before) ? s : undefined
  }, 'B to hold what A held before the loss')
  t.same(after, before, 'B, reseeded from the stalest replica, now holds every newest version')
  t.same(await state(a), before, 'A rolled nothing back')
  t.ok((await a.nodeStatus()).appliedSeq > appliedBefore, 'and its sequences only grew: the new log starts above the old one')
  t.same(await state(c), before, 'C rolled nothing back')
  for (const [key, { version, value }] of acked) {
    for (const node of [a, b, c]) t.same((await node.get(key, { version })).value, value, `${key} v${version} on ${node.nodeId}`)
  }
  await t.rejects(b.get('svc/5/db'), { code: 'NOT_FOUND' }, 'a delete stays a delete')

  // Versions continue where they were, on every node.
  const next = await c.put('svc/0/db', { after: 'reseed' }, { ifVersion: before['svc/0/db']![0] })
  t.equal(next.version, before['svc/0/db']![0] + 1)
  await a.waitForApplied(next.seq)
  t.same((await a.get('svc/0/db')).value, { after: 'reseed' })
  await b.waitForApplied(next.seq)

  watching.abort()
  await watched
  const seen = new Map<string, number>()
  for (const e of events) {
    const last = seen.get(e.key)
    if (last !== undefined) t.equal(e.prevVersion, last, `${e.key}: no gap or duplicate at v${e.version}`)
    seen.set(e.key, e.version)
  }
  t.equal(seen.get('svc/0/db'), next.version, 'the watcher on B saw the write after the reseed')
  t.ok(events.some(e => e.key === 'svc/1/db' && e.version > 1), 'and the versions B lacked, contributed by the others')

  await t.rejects(a.reseed(), { code: 'RESEED_REFUSED', message: /matches this replica/ }, 'a node that follows its log has nothing to reseed')
})

t.test('a reseed never overwrites a stream of another history', async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const a = await testNode(t, { dataKey, nats: { servers: server.url } })
  await a.put('k', { v: 1 })
  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await server.restart()
  const fresh = await testNode(t, { dataKey, nats: { servers: server.url } })
  await fresh.put('other', { history: 'new' })
  await divergence(a)
  await t.rejects(a.reseed(), { code: 'RESEED_REFUSED', message: /does not continue/ })
  t.same((await a.get('k')).value, { v: 1 }, 'the replica is untouched')
  await t.rejects(a.get('other'), { code: 'NOT_FOUND' })
  t.equal((await fresh.get('other')).version, 1, 'the other history is untouched')
})

t.test('a standalone node has no separate log to reseed', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  await t.rejects(node.reseed(), { code: 'RESEED_REFUSED' })
})

t.test('a log that lost its newest records and took others since is refused, and a reseed restores what was lost', async t => {
  const storeDir = await tempDir(t)
  const backup = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const dirA = await tempDir(t)
  let a = await testNode(t, { dataKey, nats, dataDir: dirA })
  const b = await testNode(t, { dataKey, nats })
  for (let i = 0; i < 4; i++) await a.put(`k/${i}`, { i })
  await caughtUp(b)
  // The server's store as a backup would have it, then more writes the backup misses.
  await server.kill()
  await cp(storeDir, backup, { recursive: true })
  await server.restart()
  await eventually(async () => (await a.nodeStatus()).connected, 'A to reconnect')
  for (let i = 0; i < 3; i++) await a.put(`k/${i}`, { i, later: true })
  await caughtUp(a)
  const appliedA = (await a.nodeStatus()).appliedSeq
  await a.close()

  // Restored from the backup: the newest records are gone; B writes other keys over their sequences.
  await b.close()
  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await cp(backup, storeDir, { recursive: true })
  await server.restart()
  const c = await testNode(t, { dataKey, nats })
  await caughtUp(c)
  for (let i = 0; i < 5; i++) await c.put(`other/${i}`, { i })
  t.ok((await c.nodeStatus()).logSeq >= appliedA, 'the log is as long as before again')

  a = await testNode(t, { dataKey, nats, dataDir: dirA })
  t.match(await divergence(a), /is not the one this replica applied/, 'A notices the records under its applied sequence changed')
  t.same((await a.get('k/0')).value, { i: 0, later: true }, 'and keeps its replica')

  await t.rejects(a.reseed(), { code: 'RESEED_REFUSED', message: /never changes an existing one/ }, 'a reseed never changes an existing stream')
  // What the shortened stream holds is in the replicas (C applied it): it may go.
  const nc = await connect({ servers: server.url })
  await (await jetstreamManager(nc)).streams.delete('CREDREG_default')
  await nc.close()
  await a.reseed()
  for (const node of [a, c]) {
    await following(node)
  }
  await eventually(async () => JSON.stringify(await state(c)) === JSON.stringify(await state(a)), 'A and C to agree')
  for (let i = 0; i < 3; i++) t.same((await c.get(`k/${i}`)).value, { i, later: true }, `k/${i}: the write the log lost is back`)
  for (let i = 0; i < 5; i++) t.same((await a.get(`other/${i}`)).value, { i }, `other/${i}: the writes made on the shortened log are kept`)
})

t.test('under a policy: the reseeded log starts with the policy, carries every version re-signed by the reseeding host, and a new replica applies it all', async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const [dirA, dirB] = [await tempDir(t), await tempDir(t)]
  const a = await testNode(t, { dataKey, nats, nodeId: 'a', dataDir: dirA })
  const b = await testNode(t, { dataKey, nats, nodeId: 'b', dataDir: dirB })
  const admin = SigningKey.generate()
  const policy = { admin: admin.publicKey, hosts: [grant('a', (await hostKeyOf(dirA)).publicKey), grant('b', (await hostKeyOf(dirB)).publicKey, { write: ['svc/b/'], read: ['svc/b/'] })], scopes: [] }
  await policyAccess(a).put(policyRecord(a.namespace, 1, policy, admin))
  await caughtUp(b)
  await a.put('svc/a/db', { pass: 'a1' })
  await b.put('svc/b/db', { pass: 'b1' })
  await a.commit([{ key: 'svc/a/db', op: 'put', value: { pass: 'a2' } }, { key: 'svc/a/api', op: 'put', value: { token: 't' } }])
  await caughtUp(a)
  await caughtUp(b)
  const before = await state(a)

  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await server.restart()
  for (const node of [a, b]) await divergence(node)
  await t.rejects(b.reseed(), { code: 'RESEED_REFUSED', message: /write on every key/ }, 'a host not granted every key cannot re-sign them all')
  t.ok((await a.reseed()).versions > 0)
  for (const node of [a, b]) {
    await following(node)
    await caughtUp(node)
  }
  t.same(await state(a), before, 'a holds what it held')
  t.same(await b.get('svc/b/db').then(e => e.value), { pass: 'b1' })
  const fresh = await testNode(t, { dataKey, nats, nodeId: 'fresh' })
  await caughtUp(fresh)
  t.same((await fresh.nodeStatus()).rejected, {}, 'a replica built from the reseeded log refuses nothing')
  t.equal(policyAccess(fresh).current()?.version, 1, 'the policy came first and is in force')
  t.match(await b.put('svc/b/db', { pass: 'b2' }), { version: 2 }, 'writes go on under the policy')
})
