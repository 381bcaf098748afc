/**
 * The attacks on records seen against earlier releases, each replayed on two
 * replicas sharing a real NATS server: the register is unchanged and still
 * writable afterwards. (Membership record forgeries: test/peers/*.ts;
 * patch bombs: test/patch*.ts; secrets files: test/daemon/secrets*.ts.)
 */
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { v7 as uuidv7 } from 'uuid'
import { Authenticator } from '../../lib/authenticator.js'
import { entitySubjectPrefix } from '../../lib/log/jetstream-log.js'
import { keyToSubjectTokens } from '../../lib/key.js'
import { buildRecord, encodeRecord } from '../../lib/records/record.js'
import type { ChangeEvent, CredregNode } from '../../lib/types.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'
import { recordKeys } from '../fixtures/record-keys.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
let n = 0

interface Cluster { a: CredregNode, b: CredregNode, nc: NatsConnection, namespace: string, dataKey: Buffer, publish: (key: string, data: Uint8Array | string) => Promise<void> }

/** Two replicas of a fresh namespace with `sec/db` at version 1, and a raw NATS connection (an attacker's). */
async function cluster (t: Test): Promise<Cluster> {
  const namespace = `attack${++n}`
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const a = await testNode(t, { dataKey, nats, namespace })
  const b = await testNode(t, { dataKey, nats, namespace })
  await a.put('sec/db', { password: 'v1' })
  await caughtUp(b)
  const nc = await connect(nats)
  t.teardown(async () => await nc.close())
  const publish = async (key: string, data: Uint8Array | string): Promise<void> => {
    nc.publish(entitySubjectPrefix(namespace) + keyToSubjectTokens(key), data)
    await nc.flush()
  }
  return { a, b, nc, namespace, dataKey, publish }
}

/** A record as a holder of the data key can make it. */
function keyHolderRecord (c: Cluster, key: string, version: number, plaintext: string | undefined): Uint8Array {
  const head = { ns: c.namespace, key, version, meta: { updatedAt: new Date().toISOString(), nodeId: 'insider', correlationId: uuidv7() } }
  const keys = recordKeys(c.dataKey)
  return encodeRecord(plaintext === undefined ? buildRecord(head, 'delete', undefined, keys) : buildRecord(head, 'put', Buffer.from(plaintext), keys))
}

async function settled (c: Cluster): Promise<void> {
  await caughtUp(c.a)
  await caughtUp(c.b)
}

/** Both replicas hold `sec/db` = `value` at `version`, identically, and take the next write. */
async function intactAndWritable (t: Test, c: Cluster, version: number, value: object): Promise<void> {
  for (const node of [c.a, c.b]) t.match(await node.get('sec/db'), { version, value }, `${node.nodeId} still holds version ${version}`)
  t.same(await snapshot(c.b), await snapshot(c.a), 'the replicas agree')
  const next = await c.b.put('sec/db', { password: 'next' }, { ifVersion: version })
  t.equal(next.version, version + 1, 'the next honest write takes the next version')
  await caughtUp(c.a)
  t.match(await c.a.get('sec/db'), { version: version + 1, value: { password: 'next' } }, 'and every replica applies it')
}

t.test('1. a delete published without the data key tombstones nothing', async t => {
  const c = await cluster(t)
  const meta = { updatedAt: new Date().toISOString(), nodeId: 'mallory', correlationId: uuidv7() }
  await c.publish('sec/db', JSON.stringify({ v: 1, ns: c.namespace, key: 'sec/db', version: 2, op: 'delete', meta }))
  await c.publish('sec/db', JSON.stringify({ v: 2, ns: c.namespace, key: 'sec/db', version: 2, op: 'delete', meta, auth: { kid: new Authenticator(c.dataKey).kid, tag: randomBytes(32).toString('base64url') } }))
  await settled(c)
  t.match((await c.b.nodeStatus()).rejected, { legacy: 1, unauthenticated: 1 }, 'both refused, counted by reason')
  await intactAndWritable(t, c, 1, { password: 'v1' })
})

t.test('2. a flood of forged deletes leaves every replica\'s history whole', async t => {
  const c = await cluster(t)
  await c.a.put('sec/db', { password: 'v2' })
  await settled(c)
  const before = await c.b.history('sec/db')
  for (let version = 3; version < 16; version++) {
    await c.publish('sec/db', JSON.stringify({ v: 1, ns: c.namespace, key: 'sec/db', version, op: 'delete', meta: { updatedAt: new Date().toISOString(), nodeId: 'mallory', correlationId: uuidv7() } }))
  }
  await settled(c)
  t.same(await c.b.history('sec/db'), before, 'the history is what it was')
  t.equal((await c.b.nodeStatus()).rejected.legacy, 13)
  await intactAndWritable(t, c, 2, { password: 'v2' })
})

t.test('3. a stream identity published without the data key is passed over: no divergence, on restart either', async t => {
  const namespace = `attack${++n}`
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const dirA = await tempDir(t)
  let a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  const b = await testNode(t, { dataKey, nats, namespace })
  await a.put('sec/db', { password: 'v1' })
  await caughtUp(b)
  const nc = await connect(nats)
  t.teardown(async () => await nc.close())
  const subject = `credreg.${namespace}.identity`
  nc.publish(subject, JSON.stringify({ id: 'mallory', lineage: [] }))
  nc.publish(subject, JSON.stringify({ id: 'mallory', lineage: [], tag: randomBytes(32).toString('base64url') }))
  nc.publish(subject, 'mallory-bare-id')
  await nc.flush()

  await a.close()
  a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  await caughtUp(a)
  t.equal((await a.nodeStatus()).diverged, undefined, 'a restarted replica still follows its log')
  t.equal((await a.put('sec/db', { password: 'v2' })).version, 2, 'and writes')

  // Enough forgeries to push the genuine record out of the stream (the per-subject limit):
  // the replicas cannot tell the identity any more, and keep following what they know.
  for (let i = 0; i < 20; i++) nc.publish(subject, JSON.stringify({ id: `mallory-${i}`, lineage: [] }))
  await nc.flush()
  await a.close()
  a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  await caughtUp(a)
  t.equal((await a.nodeStatus()).diverged, undefined, 'no divergence with the genuine identity record gone')
  t.equal((await a.put('sec/db', { password: 'v3' })).version, 3)
  await caughtUp(b)
  t.match(await b.get('sec/db'), { version: 3, value: { password: 'v3' } })
})

t.test('5. a version past 2^53 from a holder of the data key is refused; the key keeps exact versions', async t => {
  const c = await cluster(t)
  await c.publish('sec/db', keyHolderRecord(c, 'sec/db', 2 ** 53 + 10, '{"password":"wedge"}'))
  await c.publish('sec/db', keyHolderRecord(c, 'sec/db', 1000, '{"password":"jump"}'))
  await settled(c)
  t.match((await c.b.nodeStatus()).rejected, { schema: 1, 'version-jump': 1 })
  await intactAndWritable(t, c, 1, { password: 'v1' })
  t.equal((await c.a.put('sec/db', { password: 'again' })).version, 3, 'versions stay gapless')
})

t.test('6. a sealed value that is not a JSON object from a holder of the data key is refused; reads and watchers are unaffected', async t => {
  const c = await cluster(t)
  const events: ChangeEvent[] = []
  const controller = new AbortController()
  const watching = (async () => {
    for await (const e of c.b.watch('sec/', { signal: controller.signal })) {
      events.push(e)
      if (e.version === 2) break
    }
  })()
  for (const plaintext of ['password=hunter2', '["hunter2"]', '"hunter2"', '42']) await c.publish('sec/db', keyHolderRecord(c, 'sec/db', 2, plaintext))
  await settled(c)
  t.equal((await c.b.nodeStatus()).rejected['not-an-object'], 4)
  await intactAndWritable(t, c, 1, { password: 'v1' })
  await watching
  controller.abort()
  t.same(events.map(e => [e.version, e.value]), [[2, { password: 'next' }]], 'the watcher saw only the honest write')
})

t.test('a delete of a key that never existed writes nothing, to the log or any replica', async t => {
  const c = await cluster(t)
  const before = (await c.a.nodeStatus()).logSeq
  await t.rejects(c.a.delete('never/was'), { code: 'NOT_FOUND' })
  t.equal((await c.a.nodeStatus()).logSeq, before, 'nothing was appended')
  await c.publish('never/was', keyHolderRecord(c, 'never/was', 1, undefined))
  await settled(c)
  t.equal((await c.b.nodeStatus()).rejected['nothing-to-delete'], 1)
  await t.rejects(c.b.history('never/was'), { code: 'NOT_FOUND' }, 'no tombstone, no history')
})

t.test('a message larger than any record is refused by the server itself', async t => {
  const c = await cluster(t)
  const js = (await import('@nats-io/jetstream')).jetstream(c.nc)
  await t.rejects(js.publish(entitySubjectPrefix(c.namespace) + 'big', Buffer.alloc(200 * 1024)), /maximum|size|exceed/i)
  await intactAndWritable(t, c, 1, { password: 'v1' })
})

t.test('on a stream started by this release, an untagged record counts for nothing even before the first write', async t => {
  const namespace = `attack${++n}`
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const a = await testNode(t, { dataKey, nats, namespace })
  await caughtUp(a)
  const nc = await connect(nats)
  t.teardown(async () => await nc.close())
  const meta = { updatedAt: new Date().toISOString(), nodeId: 'mallory', correlationId: uuidv7() }
  nc.publish(entitySubjectPrefix(namespace) + keyToSubjectTokens('sec/db'), JSON.stringify({ v: 1, ns: namespace, key: 'sec/db', version: 2, op: 'delete', meta }))
  await nc.flush()
  await caughtUp(a)
  t.match((await a.nodeStatus()).rejected, { legacy: 1 }, 'refused as an unauthenticated record')
  await t.rejects(a.history('sec/db'), { code: 'NOT_FOUND' }, 'no tombstone')
  t.equal((await a.put('sec/db', { password: 'v1' })).version, 1, 'the first honest write is version 1')
})
