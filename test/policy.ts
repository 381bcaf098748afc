/**
 * The policy, enforced by every replica: host identity, signed records, what
 * a host may write and read, policies signed by the admin key only, read
 * scopes with keys of their own, all decided from log order. Three nodes on
 * a real nats-server, real LevelDB; records forged straight into NATS.
 */
import t, { type Test } from 'tap'
import { connect } from '@nats-io/transport-node'
import { v7 as uuidv7 } from 'uuid'
import { keyId } from '../lib/authenticator.js'
import { SigningKey } from '../lib/identity/signing-key.js'
import { auditTrail, policyAccess, resealScope } from '../lib/node.js'
import { buildRecord } from '../lib/records/record.js'
import { buildDecision } from '../lib/records/rotation-record.js'
import type { CredregNode } from '../lib/types.js'
import { eventually } from './fixtures/eventually.js'
import { startNatsServer } from './fixtures/nats-server.js'
import { caughtUp, newDataKey, tempDir, testNode } from './fixtures/nodes.js'
import { grant, hostKeyOf, policyRecord, publishKeyRecord, publishTransaction } from './fixtures/policy.js'
import { recordKeys } from './fixtures/record-keys.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
let n = 0

interface Fleet {
  a: CredregNode
  b: CredregNode
  c: CredregNode
  namespace: string
  dataKey: Buffer
  sharedKey: Buffer
  admin: SigningKey
  dirs: string[]
  keys: Record<'a' | 'b' | 'c', SigningKey>
}

/**
 * Three hosts: a may do anything, b writes and reads `svc/b/` only, c
 * reads everything but holds no key of the read scope `shared/` (only a
 * does), and writes nothing. Policy version 1 is in force everywhere.
 */
async function fleet (t: Test): Promise<Fleet> {
  const namespace = `pol${++n}`
  const dataKey = newDataKey()
  const sharedKey = newDataKey()
  const dirs = [await tempDir(t), await tempDir(t), await tempDir(t)]
  const nats = { servers: server.url }
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (nodeId, i) =>
    await testNode(t, { dataKey, namespace, nodeId, dataDir: dirs[i] as string, nats, ...(nodeId === 'a' ? { scopeKeys: [sharedKey] } : {}) }))) as [CredregNode, CredregNode, CredregNode]
  const keys = { a: await hostKeyOf(dirs[0] as string), b: await hostKeyOf(dirs[1] as string), c: await hostKeyOf(dirs[2] as string) }
  const admin = SigningKey.generate()
  const policy = {
    admin: admin.publicKey,
    hosts: [grant('a', keys.a.publicKey), grant('b', keys.b.publicKey, { write: ['svc/b/'], read: ['svc/b/'], rotations: false }), grant('c', keys.c.publicKey, { write: [], rotations: false })],
    scopes: [{ prefix: '', kids: [keyId(dataKey)] }, { prefix: 'shared/', kids: [keyId(sharedKey)] }]
  }
  await policyAccess(a).put(policyRecord(namespace, 1, policy, admin))
  await Promise.all([b, c].map(async node => await caughtUp(node)))
  return { a, b, c, namespace, dataKey, sharedKey, admin, dirs, keys }
}

/** The admin key the policy in force at `node` names. */
async function fleetAdmin (node: CredregNode): Promise<string | undefined> {
  return policyAccess(node).current()?.policy.admin
}

const meta = (nodeId: string): { updatedAt: string, nodeId: string, correlationId: string } => ({ updatedAt: new Date().toISOString(), nodeId, correlationId: uuidv7() })

t.test('a host writes its own prefix; beyond it, its own node refuses before publishing', async t => {
  const { a, b, keys } = await fleet(t)
  const written = await b.put('svc/b/db', { pass: 'b1' })
  await caughtUp(a)
  t.match(await a.get('svc/b/db'), { version: 1, meta: { nodeId: 'b', signer: keys.b.publicKey } }, 'the verified signer is kept with the version')
  t.equal(written.version, 1)
  await t.rejects(b.put('svc/a/db', { pass: 'x' }), { code: 'FORBIDDEN', message: /does not let b write svc\/a\/db/ })
  await t.rejects(b.commit([{ key: 'svc/b/x', op: 'put', value: {} }, { key: 'svc/a/x', op: 'put', value: {} }]), { code: 'FORBIDDEN' }, 'a changeset with one key beyond the grant')
  await t.rejects(b.get('svc/a/anything'), { code: 'FORBIDDEN' }, 'b may not read beyond its grant either')
  await t.rejects(a.put('_credreg/other', { x: 1 }), { code: 'FORBIDDEN', message: /register's own/ })
  t.same((await a.nodeStatus()).identity, { publicKey: keys.a.publicKey, keyIds: (await a.nodeStatus()).identity.keyIds, policyVersion: 1, grant: grant('a', keys.a.publicKey) })
})

t.test('records forged straight into NATS by a host holding the data key are refused by every replica', async t => {
  const { a, b, c, namespace, dataKey, keys } = await fleet(t)
  await a.put('svc/a/db', { pass: 'a1' })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const bKeys = recordKeys(dataKey, keys.b)
  // Signed by b, beyond b's grant.
  await publishKeyRecord(nc, namespace, 'svc/a/db', buildRecord({ ns: namespace, key: 'svc/a/db', version: 2, meta: meta('b') }, 'put', Buffer.from('{"pass":"stolen"}'), bKeys))
  // Signed by b in a's name.
  await publishKeyRecord(nc, namespace, 'svc/a/db', buildRecord({ ns: namespace, key: 'svc/a/db', version: 2, meta: meta('a') }, 'put', Buffer.from('{"pass":"stolen"}'), bKeys))
  // Not signed at all, though sealed and tagged under the data key.
  await publishKeyRecord(nc, namespace, 'svc/a/db', buildRecord({ ns: namespace, key: 'svc/a/db', version: 2, meta: meta('a') }, 'put', Buffer.from('{"pass":"stolen"}'), recordKeys(dataKey)))
  // b's own prefix lands.
  await publishKeyRecord(nc, namespace, 'svc/b/own', buildRecord({ ns: namespace, key: 'svc/b/own', version: 1, meta: meta('b') }, 'put', Buffer.from('{"ok":true}'), bKeys))
  for (const node of [a, b, c]) {
    await eventually(async () => (await node.nodeStatus()).rejected.unsigned === 1, `${node.nodeId} to refuse all three`)
    const s = await node.nodeStatus()
    t.equal(s.rejected.unauthorized, 2, `${node.nodeId}: two unauthorized`)
    t.same((await node.get('svc/a/db').catch(() => undefined))?.value ?? (await a.get('svc/a/db')).value, { pass: 'a1' }, `${node.nodeId}: the value stands`)
  }
  await eventually(async () => await c.get('svc/b/own').then(() => true, () => false), 'b\'s own write to land')
  t.equal((await c.get('svc/b/own')).meta.signer, keys.b.publicKey)
  const trail = (await auditTrail(a, { prefix: 'svc/' })).entries
  t.match(trail.map(e => [e.op, e.keys, e.nodeId, e.signer, e.outcome]), [
    ['put', ['svc/a/db'], 'a', keys.a.publicKey, 'applied'],
    ['put', ['svc/a/db'], 'b', keys.b.publicKey, 'unauthorized'],
    ['put', ['svc/a/db'], 'a', keys.b.publicKey, 'unauthorized'],
    ['put', ['svc/b/own'], 'b', keys.b.publicKey, 'applied']
  ], 'the audit trail names who tried what, by verified key (an unsigned record names no one: it is only counted)')
  t.same((await auditTrail(a, { prefix: '_credreg/' })).entries.map(e => [e.op, e.signer]), [['policy', (await fleetAdmin(a))]])
})

t.test('b acking a rotation in c\'s name, or releasing without the right, is refused everywhere', async t => {
  const { a, c, namespace, dataKey, keys } = await fleet(t)
  await a.put('svc/a/db', { pass: 'a1' })
  const staged = await a.stage([{ key: 'svc/a/db', op: 'put', value: { pass: 'a2' } }], { hosts: ['a', 'c'] })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const bKeys = recordKeys(dataKey, keys.b)
  await publishTransaction(nc, namespace, buildDecision(namespace, uuidv7(), meta('c'), { op: 'ack', rotation: staged.id, ok: true }, bKeys))
  await publishTransaction(nc, namespace, buildDecision(namespace, uuidv7(), meta('b'), { op: 'release', rotation: staged.id, forced: true }, bKeys))
  await eventually(async () => (await c.nodeStatus()).rejected.unauthorized === 2, 'both to be refused')
  t.same((await c.rotation(staged.id)).hosts.map(h => h.ack), ['silent', 'silent'])
  await t.rejects(c.release(staged.id, { force: true }), { code: 'FORBIDDEN', message: /rotations/ }, 'c may not decide rotations')
  await c.ack(staged.id, { ok: true })
  await a.ack(staged.id, { ok: true })
  t.match(await a.release(staged.id), { status: 'released' })
})

t.test('a policy counts only when signed by the admin key in force, whoever carries it', async t => {
  const { a, b, c, namespace, admin, keys } = await fleet(t)
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const current = policyAccess(a).current()
  t.equal(current?.version, 1)
  const widened = { ...(current?.policy as NonNullable<typeof current>['policy']), hosts: [grant('a', keys.a.publicKey), grant('b', keys.b.publicKey), grant('c', keys.c.publicKey)] }
  // b signs a policy that gives it everything: refused.
  await publishKeyRecord(nc, namespace, '_credreg/policy', policyRecord(namespace, 2, { ...widened, admin: keys.b.publicKey }, keys.b))
  await eventually(async () => (await c.nodeStatus()).rejected.unauthorized === 1, 'the forged policy to be refused')
  await t.rejects(policyAccess(b).put(policyRecord(namespace, 2, widened, keys.b)), { code: 'FORBIDDEN', message: /not by the admin key/ })
  // The admin's own, carried into NATS by b (which may not write _credreg/): applied.
  await publishKeyRecord(nc, namespace, '_credreg/policy', policyRecord(namespace, 2, widened, admin))
  await eventually(async () => policyAccess(c).current()?.version === 2, 'the admin\'s policy to apply')
  await caughtUp(b)
  t.match(await b.put('svc/a/db', { pass: 'now allowed' }), { version: 1 })
  t.match(await c.get('_credreg/policy'), { version: 2, value: widened, meta: { signer: admin.publicKey } }, 'the policy reads as a key like any other')
  await t.rejects(policyAccess(a).put(policyRecord(namespace, 2, widened, admin)), { code: 'VERSION_CONFLICT' })
})

t.test('a revoked host is refused from its revocation on, by a replica that reads both later too', async t => {
  const { a, b, c, namespace, admin, keys, dataKey, dirs } = await fleet(t)
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  await b.put('svc/b/db', { pass: 'b1' })
  await caughtUp(c)
  await c.close()
  const current = policyAccess(a).current() as { version: number, policy: Parameters<typeof policyRecord>[2] }
  await policyAccess(a).put(policyRecord(namespace, 2, { ...current.policy, hosts: current.policy.hosts.filter(h => h.name !== 'b') }, admin))
  await publishKeyRecord(nc, namespace, 'svc/b/db', buildRecord({ ns: namespace, key: 'svc/b/db', version: 2, meta: meta('b') }, 'put', Buffer.from('{"pass":"after"}'), recordKeys(dataKey, keys.b)))
  await eventually(async () => (await a.nodeStatus()).rejected.unauthorized === 1, 'a to refuse b\'s write after the revocation')
  await caughtUp(b)
  await t.rejects(b.put('svc/b/db', { pass: 'again' }), { code: 'FORBIDDEN', message: /does not grant this host/ }, 'b\'s own node knows it is revoked')
  // c was offline during both: it reads the revocation and the write now, in log order.
  const back = await testNode(t, { dataKey, namespace, nodeId: 'c', dataDir: dirs[2] as string, nats: { servers: server.url } })
  await caughtUp(back)
  t.equal((await back.nodeStatus()).rejected.unauthorized, 1, 'the replica that was offline refuses it too')
  t.same((await back.history('svc/b/db')).map(h => h.value), [{ pass: 'b1' }], 'only what b wrote while granted counts')
  t.equal((await back.nodeStatus()).appliedSeq, (await a.nodeStatus()).appliedSeq)
})

t.test('a host without a read scope\'s key converges all the same, and answers FORBIDDEN for what it cannot open', async t => {
  const { a, c } = await fleet(t)
  const watch = c.watch('shared/')
  await a.put('shared/x', { token: 's1' })
  await a.commit([{ key: 'shared/y', op: 'put', value: { token: 'y' } }, { key: 'svc/a/z', op: 'put', value: { n: 1 } }])
  await a.put('shared/x', { token: 's2' })
  await caughtUp(c)
  t.same((await a.get('shared/x')).value, { token: 's2' }, 'a, holding the scope key, reads it')
  await t.rejects(c.get('shared/x'), { code: 'FORBIDDEN', message: /holds no key with id .* read scope "shared\/"/ })
  const history = (h: Awaited<ReturnType<CredregNode['history']>>): unknown => h.map(e => ({ version: e.version, seq: e.seq, meta: e.meta }))
  t.same(history(await c.history('shared/x')), history(await a.history('shared/x')), 'the same history metadata on both')
  t.ok((await c.history('shared/x')).every(e => e.value === undefined && /does not hold/.test(e.unreadable ?? '')))
  t.equal((await c.nodeStatus()).appliedSeq, (await a.nodeStatus()).appliedSeq, 'the same applied sequence')
  t.same((await c.get('svc/a/z')).value, { n: 1 }, 'the rest of the changeset reads on c')
  // The watcher on c saw nothing it could not open: the next event it gets is one it can.
  await a.put('shared/open-later', { x: 1 })
  const next = watch.next()
  const timedOut = await Promise.race([next.then(() => false), new Promise(resolve => setTimeout(() => resolve(true), 500))])
  t.ok(timedOut, 'nothing under shared/ reached c\'s watcher')
  await watch.return?.()
})

t.test('a read scope\'s key rotated, every live value re-sealed, the old key retired: nothing lost', async t => {
  const { a, namespace, admin, sharedKey, dataKey, dirs } = await fleet(t)
  await a.put('shared/x', { token: 'x1' })
  await a.put('shared/y', { token: 'y1' })
  await a.delete('shared/y')
  await a.put('shared/z', { token: 'z1' })
  // A second key for the scope, held next to the first: a restart with both.
  const newKey = newDataKey()
  await a.close()
  const a2 = await testNode(t, { dataKey, namespace, nodeId: 'a', dataDir: dirs[0] as string, nats: { servers: server.url }, scopeKeys: [sharedKey, newKey] })
  await caughtUp(a2)
  const current = policyAccess(a2).current() as { version: number, policy: Parameters<typeof policyRecord>[2] }
  const rotated = { ...current.policy, scopes: current.policy.scopes.map(s => s.prefix === 'shared/' ? { prefix: 'shared/', kids: [keyId(newKey), keyId(sharedKey)] } : s) }
  await policyAccess(a2).put(policyRecord(namespace, 2, rotated, admin))
  const progress: number[] = []
  const result = await resealScope(a2, 'shared/', r => progress.push(r.resealed))
  t.same(result, { resealed: 2, current: 0, failed: [] }, 'both live values written again; the deleted one is not live')
  t.ok(progress.length > 0, 'progress reported')
  t.same(await resealScope(a2, 'shared/'), { resealed: 0, current: 2, failed: [] }, 'a second reseal has nothing to do')
  const retired = { ...rotated, scopes: rotated.scopes.map(s => s.prefix === 'shared/' ? { prefix: 'shared/', kids: [keyId(newKey)], retired: [keyId(sharedKey)] } : s) }
  await policyAccess(a2).put(policyRecord(namespace, 3, retired, admin))
  // The host drops the old key: every live value still opens, older versions say why they do not.
  await a2.close()
  const a3 = await testNode(t, { dataKey, namespace, nodeId: 'a', dataDir: dirs[0] as string, nats: { servers: server.url }, scopeKeys: [newKey] })
  await caughtUp(a3)
  t.same((await a3.get('shared/x')).value, { token: 'x1' })
  t.same((await a3.get('shared/z')).value, { token: 'z1' })
  const history = await a3.history('shared/x')
  t.same(history.map(h => [h.version, h.value, h.unreadable]), [[1, undefined, `sealed under key id ${keyId(sharedKey)}, retired`], [2, { token: 'x1' }, undefined]])
  // A value sealed under the retired key counts no more, even signed by a host granted the key.
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const aKey = await hostKeyOf(dirs[0] as string)
  await publishKeyRecord(nc, namespace, 'shared/x', buildRecord({ ns: namespace, key: 'shared/x', version: 3, meta: meta('a') }, 'put', Buffer.from('{"token":"old key"}'), recordKeys(sharedKey, aKey)))
  await eventually(async () => (await a3.nodeStatus()).rejected['scope-key'] === 1, 'a value under the retired key to be refused')
  t.equal((await a3.get('shared/x')).version, 2)
})
