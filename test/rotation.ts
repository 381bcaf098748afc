/**
 * Staged rotations on nodes: staged values replicate but stay pending; every
 * required host acknowledges; the release makes them current as one
 * changeset on every replica alike, or is refused everywhere with the
 * reason; abort, deadline, forced release. Real nats-server, real LevelDB.
 */
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { connect } from '@nats-io/transport-node'
import { v7 as uuidv7 } from 'uuid'
import { encodeRecord } from '../lib/records/record.js'
import { buildDecision } from '../lib/records/rotation-record.js'
import type { ChangeEvent, CredregNode } from '../lib/types.js'
import { eventually } from './fixtures/eventually.js'
import { startNatsServer } from './fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from './fixtures/nodes.js'
import { recordKeys } from './fixtures/record-keys.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
let n = 0

interface Fleet { a: CredregNode, b: CredregNode, c: CredregNode, namespace: string, dataKey: Buffer, dirs: string[] }

/** Three hosts of a fresh namespace, `db/user` and `db/pass` at version 1. */
async function fleet (t: Test): Promise<Fleet> {
  const namespace = `rot${++n}`
  const dataKey = newDataKey()
  const dirs = [await tempDir(t), await tempDir(t), await tempDir(t)]
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (nodeId, i) =>
    await testNode(t, { dataKey, namespace, nodeId, dataDir: dirs[i] as string, nats: { servers: server.url } })))
  const [na, nb, nc] = [a, b, c] as [CredregNode, CredregNode, CredregNode]
  await na.commit([{ key: 'db/user', op: 'put', value: { name: 'app' } }, { key: 'db/pass', op: 'put', value: { secret: 'old' } }])
  await Promise.all([nb, nc].map(async node => await caughtUp(node)))
  return { a: na, b: nb, c: nc, namespace, dataKey, dirs }
}

const rotate = [
  { key: 'db/user', op: 'put' as const, value: { name: 'app2' } },
  { key: 'db/pass', op: 'put' as const, value: { secret: 'new' } }
]

t.test('a staged value replicates but stays pending; the release makes it current at one sequence everywhere', async t => {
  const { a, b, c } = await fleet(t)
  const watch = c.watch('db/')
  const staged = await a.stage(rotate, { hosts: ['a', 'b', 'c'] })
  t.match(staged, { status: 'staged', stagedBy: 'a', changes: [{ key: 'db/user', version: 2, builtOn: 1 }, { key: 'db/pass', version: 2, builtOn: 1 }] })
  t.same(staged.hosts.map(h => h.ack), ['silent', 'silent', 'silent'])
  for (const node of [a, b, c]) {
    await eventually(async () => await node.rotation(staged.id).catch(() => undefined), `${node.nodeId} to apply the stage`)
    t.same((await node.get('db/pass')).value, { secret: 'old' }, `${node.nodeId}: a plain read still answers the current value`)
    t.match(await node.get('db/pass', { stage: 'pending' }), { version: 2, value: { secret: 'new' }, rotation: staged.id }, `${node.nodeId}: the staged value on purpose`)
  }
  t.same((await a.list('db/')).items.map(i => i.version), [1, 1], 'a list shows current versions')
  await t.rejects(a.get('db/other', { stage: 'pending' }), { code: 'NOT_FOUND' })

  await a.ack(staged.id, { ok: true })
  await b.ack(staged.id, { ok: true, message: 'login ok' })
  const refused = await a.release(staged.id).catch((e: unknown) => e)
  t.match(refused, { code: 'ROTATION_REFUSED', message: /no ack from c/ }, 'refused with 2 of 3 acks, naming the host missing')
  t.same((await a.get('db/pass')).value, { secret: 'old' }, 'nothing released')

  await caughtUp(c)
  await c.ack(staged.id, { ok: true })
  await caughtUp(a)
  const released = await a.release(staged.id)
  t.match(released, { status: 'released', closed: { by: 'a', forced: false } })
  const events: ChangeEvent[] = []
  for (let e = await watch.next(); e.done !== true; e = await watch.next()) {
    events.push(e.value)
    if (events.length === 2) break
  }
  await watch.return?.()
  t.same(events.map(e => [e.key, e.version, e.seq, e.changeset]), [
    ['db/user', 2, released.closed?.seq, { id: staged.id, index: 0, size: 2 }],
    ['db/pass', 2, released.closed?.seq, { id: staged.id, index: 1, size: 2 }]
  ], 'watchers see one changeset, no staged value before it')
  await Promise.all([b, c].map(async node => await caughtUp(node)))
  const [sa, sb, sc] = await Promise.all([a, b, c].map(snapshot))
  t.same(sb, sa, 'b holds what a holds')
  t.same(sc, sa, 'c holds what a holds')
  t.same((await c.get('db/pass')).value, { secret: 'new' })
  t.same((await c.get('db/pass', { version: 1 })).value, { secret: 'old' }, 'the replaced version stays in history')
  t.same((await c.rotation(staged.id)).hosts.map(h => [h.nodeId, h.ack, h.message]), [['a', 'ok', undefined], ['b', 'ok', 'login ok'], ['c', 'ok', undefined]])
  await t.rejects(c.get('db/pass', { stage: 'pending' }), { code: 'NOT_FOUND' }, 'nothing pending once released')
  t.same(await a.rotations(), [], 'no open rotation')
})

t.test('a failed ack holds the release back until the host acks ok', async t => {
  const { a, b } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a', 'b'] })
  await a.ack(staged.id, { ok: true })
  await caughtUp(b)
  await b.ack(staged.id, { ok: false, message: 'FATAL: password authentication failed' })
  await caughtUp(a)
  await t.rejects(a.release(staged.id), { code: 'ROTATION_REFUSED', message: /failed on b/ })
  t.match((await a.rotation(staged.id)).hosts[1], { nodeId: 'b', ack: 'failed', message: /password authentication failed/ })
  await b.ack(staged.id, { ok: true })
  await caughtUp(a)
  t.match(await a.release(staged.id), { status: 'released' })
})

t.test('a direct write to a staged key makes the release fail; abort closes the rotation for good', async t => {
  const { a, b } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a'] })
  await a.ack(staged.id, { ok: true })
  await caughtUp(b)
  await b.put('db/pass', { secret: 'manual' })
  await caughtUp(a)
  await t.rejects(a.release(staged.id), { code: 'ROTATION_REFUSED', message: /db\/pass moved since rotation/ }, 'not a silent overwrite')
  t.same((await a.get('db/pass')).value, { secret: 'manual' })
  t.equal((await a.rotation(staged.id)).status, 'staged', 'still open')
  t.match(await a.abort(staged.id, { reason: 'superseded' }), { status: 'aborted', closed: { reason: 'superseded' } })
  await t.rejects(a.release(staged.id, { force: true }), { code: 'ROTATION_REFUSED', message: /aborted already/ }, 'no release after an abort, not even forced')
  await t.rejects(a.abort(staged.id), { code: 'ROTATION_REFUSED' }, 'nor a second abort')
  await t.rejects(a.ack(staged.id, { ok: true }), { code: 'ROTATION_REFUSED' }, 'nor an ack')
  t.same((await a.get('db/user')).value, { name: 'app' }, 'nothing of it was released')
  const again = await a.stage(rotate, { hosts: ['a'] })
  t.equal(again.status, 'staged', 'its keys can be staged again')
})

t.test('one open rotation per key; acks only from the hosts it waits for; a forced release', async t => {
  const { a, b } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a'] })
  await t.rejects(a.stage([{ key: 'db/pass', op: 'put', value: { secret: 'x' } }], { hosts: ['a'] }), { code: 'ROTATION_REFUSED', message: /staged by the open rotation/ })
  await caughtUp(b)
  await t.rejects(b.ack(staged.id, { ok: true }), { code: 'ROTATION_REFUSED', message: /does not wait for b/ })
  await t.rejects(a.ack(uuidv7(), { ok: true }), { code: 'NOT_FOUND' })
  await t.rejects(a.ack('nope', { ok: true }), { code: 'BAD_REQUEST' })
  await t.rejects(a.stage(rotate, { hosts: [] }), { code: 'BAD_REQUEST' })
  await t.rejects(a.stage(rotate, { hosts: ['a', 'a'] }), { code: 'BAD_REQUEST' })
  await t.rejects(a.stage(rotate, { hosts: ['a b'] }), { code: 'BAD_REQUEST' })
  t.match(await b.release(staged.id, { force: true }), { status: 'released', closed: { by: 'b', forced: true } }, 'forced: without the acks, recorded as forced')
  const released = await b.get('db/pass')
  t.same(released.value, { secret: 'new' })
  t.equal(released.meta.nodeId, 'b', 'a released version names who released it (its value was staged by a)')
})

t.test('a rotation past its deadline is aborted by a node', async t => {
  const { a, b } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a', 'b'], deadlineSeconds: 1 })
  t.ok(staged.deadline !== undefined)
  await eventually(async () => (await b.rotation(staged.id)).status === 'aborted', 'the deadline to abort the rotation', 10_000)
  t.match(await a.rotation(staged.id), { closed: { reason: 'the deadline passed' } })
})

t.test('a host offline at release time catches up to the released values', async t => {
  const { a, b, c, namespace, dataKey, dirs } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a', 'b', 'c'] })
  await Promise.all([b, c].map(async node => await caughtUp(node)))
  await Promise.all([a, b, c].map(async node => await node.ack(staged.id, { ok: true })))
  await c.close()
  await caughtUp(a)
  await a.release(staged.id)
  const back = await testNode(t, { dataKey, namespace, nodeId: 'c', dataDir: dirs[2] as string, nats: { servers: server.url } })
  await caughtUp(back)
  t.same((await back.get('db/pass')).value, { secret: 'new' })
  t.same(await snapshot(back), await snapshot(a))
})

t.test('acks forged by a NATS user without the data key count for nothing', async t => {
  const { a, namespace } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a', 'b'] })
  await a.ack(staged.id, { ok: true })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const wrongKey = randomBytes(32)
  const id = uuidv7()
  const forged = buildDecision(namespace, id, { updatedAt: new Date().toISOString(), nodeId: 'b', correlationId: uuidv7() }, { op: 'ack', rotation: staged.id, ok: true },
    recordKeys(wrongKey))
  nc.publish(`credreg.${namespace}.tx.${id}`, encodeRecord(forged))
  const id2 = uuidv7()
  const release = buildDecision(namespace, id2, { updatedAt: new Date().toISOString(), nodeId: 'a', correlationId: uuidv7() }, { op: 'release', rotation: staged.id, forced: true },
    recordKeys(wrongKey))
  nc.publish(`credreg.${namespace}.tx.${id2}`, encodeRecord(release))
  await nc.flush()
  await eventually(async () => ((await a.nodeStatus()).rejected.unauthenticated ?? 0) >= 2, 'both forged records to be refused')
  const rotation = await a.rotation(staged.id)
  t.equal(rotation.status, 'staged', 'a forged release released nothing')
  t.equal(rotation.hosts[1]?.ack, 'silent', 'a forged ack is no ack')
  await t.rejects(a.release(staged.id), { code: 'ROTATION_REFUSED', message: /no ack from b/ })
})

t.test('standalone: one implicit host stages, acks and releases', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  await node.put('db/pass', { secret: 'old' })
  const staged = await node.stage([{ key: 'db/pass', op: 'merge', patch: { secret: 'new' }, ifVersion: 1 }])
  t.same(staged.hosts.map(h => h.nodeId), [node.nodeId], 'the node itself is the one host by default')
  await t.rejects(node.stage([{ key: 'db/x', op: 'put', value: {}, ifVersion: 3 }]), { code: 'VERSION_CONFLICT' }, 'conditions hold as for a changeset')
  await node.ack(staged.id, { ok: true })
  t.match(await node.release(staged.id), { status: 'released' })
  t.same((await node.get('db/pass')).value, { secret: 'new' })
  t.same((await node.history('db/pass')).at(-1)?.changeset, { id: staged.id, index: 0, size: 1 })
})

t.test('an earlier ack published again replaces no later one', async t => {
  const { a, b, namespace, dataKey } = await fleet(t)
  const staged = await a.stage(rotate, { hosts: ['a', 'b'] })
  await a.ack(staged.id, { ok: true })
  await caughtUp(b)
  // An ok answer of b's made now (its id is earlier than anything b answers later), held back:
  // what anyone reading the log could publish again after b's later answer.
  const earlier = buildDecision(namespace, uuidv7(), { updatedAt: new Date().toISOString(), nodeId: 'b', correlationId: uuidv7() }, { op: 'ack', rotation: staged.id, ok: true }, recordKeys(dataKey))
  await b.ack(staged.id, { ok: false, message: 'login failed' })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  nc.publish(`credreg.${namespace}.tx.${earlier.id}`, encodeRecord(earlier))
  await nc.flush()
  await eventually(async () => ((await a.nodeStatus()).rejected['stale-ack'] ?? 0) === 1, 'the replayed ack to be refused')
  t.equal((await a.rotation(staged.id)).hosts.find(h => h.nodeId === 'b')?.ack, 'failed', 'b\'s later failure stands')
  await t.rejects(a.release(staged.id), { code: 'ROTATION_REFUSED', message: /failed on b/ })
})
