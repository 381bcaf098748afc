import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connect } from '@nats-io/transport-node'
import { v7 as uuidv7 } from 'uuid'
import { entitySubjectPrefix } from '../../lib/log/jetstream-log.js'
import { keyToSubjectTokens } from '../../lib/key.js'
import { Authenticator } from '../../lib/authenticator.js'
import { buildRecord, encodeRecord, type LogRecord, type RecordHead, type RecordKeys } from '../../lib/records/record.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, testNode } from '../fixtures/nodes.js'
import { recordKeys } from '../fixtures/record-keys.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())

t.test('invalid keys, values, patches and options are typed errors and write nothing', async t => {
  const node = await testNode(t, { dataKey: newDataKey(), maxValueBytes: 1024 })
  await node.put('ok', { a: 1 })
  for (const key of ['*', '>', '..', 'a/../b', 'has space', 'x'.repeat(300), '', 'a//b', '/a']) {
    await t.rejects(node.put(key, { a: 1 }), { code: 'INVALID_KEY' }, `put ${JSON.stringify(key.slice(0, 20))}`)
    await t.rejects(node.get(key), { code: 'INVALID_KEY' }, `get ${JSON.stringify(key.slice(0, 20))}`)
  }
  for (const value of [[1], 'str', 3, null, true]) {
    await t.rejects(node.put('ok', value as never), { code: 'INVALID_VALUE' }, `value ${JSON.stringify(value)}`)
  }
  await t.rejects(node.put('ok', { big: 'x'.repeat(2000) }), { code: 'VALUE_TOO_LARGE' })
  await t.rejects(node.patch('ok', [{ op: 'add', path: '/big', value: 'x'.repeat(2000) }]), { code: 'VALUE_TOO_LARGE' }, 'a patch that grows the value past the limit')
  await t.rejects(node.patch('ok', [{ op: 'test', path: '/a', value: 2 }]), { code: 'PATCH_FAILED' })
  await t.rejects(node.patch('ok', [{ op: 'nope', path: '/a' }] as never), { code: 'PATCH_FAILED' })
  await t.rejects(node.patch('ok', { op: 'add' } as never), { code: 'PATCH_FAILED' })
  await t.rejects(node.patch('ok', [{ op: 'replace', path: '', value: [] }]), { code: 'PATCH_FAILED' }, 'a patch may not turn the value into an array')
  await t.rejects(node.merge('ok', [] as never), { code: 'PATCH_FAILED' })
  await t.rejects(node.patch('missing', [{ op: 'add', path: '/a', value: 1 }]), { code: 'NOT_FOUND' })
  await t.rejects(node.delete('missing'), { code: 'NOT_FOUND' })
  await t.rejects(node.put('ok', { a: 2 }, { ifVersion: -1 }), { code: 'BAD_REQUEST' })
  await t.rejects(node.put('ok', { a: 2 }, { ifVersion: 1.5 }), { code: 'BAD_REQUEST' })
  await t.rejects(node.put('ok', { a: 2 }, { ifVersion: 1, ifAbsent: true }), { code: 'BAD_REQUEST' })
  await t.rejects(node.put('ok', { a: 2 }, { correlationId: 'not-a-uuid' }), { code: 'BAD_REQUEST' })
  await t.rejects(node.list('', { limit: 0 }), { code: 'BAD_REQUEST' })
  await t.rejects(node.list('', { limit: 5000 }), { code: 'BAD_REQUEST' })
  await t.rejects(node.get('ok', { version: 0 }), { code: 'BAD_REQUEST' })
  const entity = await node.get('ok')
  t.equal(entity.version, 1, 'nothing was written')
  t.same(entity.value, { a: 1 })
  t.equal((await node.history('ok')).length, 1)
})

t.test('garbage and forged records on the stream are rejected; replicas are unchanged and keep applying', async t => {
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const a = await testNode(t, { dataKey, nats, namespace: 'forge' })
  const b = await testNode(t, { dataKey, nats, namespace: 'forge' })
  const genuine = await a.put('db/pass', { p: 'v1' })
  await a.put('db/pass', { p: 'v2' })
  await caughtUp(b)
  const before = await snapshot(b)

  const nc = await connect(nats)
  t.teardown(async () => await nc.close())
  const subject = entitySubjectPrefix('forge') + keyToSubjectTokens('db/pass')
  const meta = { updatedAt: new Date().toISOString(), nodeId: 'mallory', correlationId: uuidv7() }
  const keysOf = (key: Uint8Array): RecordKeys => recordKeys(key)
  const base = (version: number, key: Uint8Array = dataKey, head: Partial<RecordHead> = {}): LogRecord =>
    buildRecord({ ns: 'forge', key: 'db/pass', version, meta, ...head }, 'put', Buffer.from('{"p":"forged"}'), keysOf(key))
  const genuineRecord = await (async () => {
    const { jetstreamManager } = await import('@nats-io/jetstream')
    const jsm = await jetstreamManager(nc)
    return (await jsm.streams.getMessage('CREDREG_forge', { seq: genuine.seq }))?.data
  })()
  const forgeries: Array<[string, Uint8Array | string]> = [
    ['garbage bytes', randomBytes(64)],
    ['JSON of the wrong shape', JSON.stringify({ hello: 'world' })],
    ['a record sealed under another data key', encodeRecord(base(3, randomBytes(32)))],
    ['a delete with a made-up tag', JSON.stringify({ ...buildRecord({ ns: 'forge', key: 'db/pass', version: 3, meta }, 'delete', undefined, keysOf(dataKey)), auth: { kid: new Authenticator(dataKey).kid, tag: randomBytes(32).toString('base64url') } })],
    ['a record of the unauthenticated schema 1', JSON.stringify({ v: 1, ns: 'forge', key: 'db/pass', version: 3, op: 'delete', meta })],
    ['a record of a newer schema version', JSON.stringify({ ...base(3), v: 4 })],
    ['a record naming another key', encodeRecord(base(3, dataKey, { key: 'db/other' }))],
    ['a record of another namespace', encodeRecord(base(3, dataKey, { ns: 'other' }))],
    ['a sealed value moved to another version', JSON.stringify({ ...base(3), value: (base(9) as { value: unknown }).value })],
    ['a replay of a genuine older record', genuineRecord ?? new Uint8Array()]
  ]
  for (const [, payload] of forgeries) nc.publish(subject, payload)
  nc.publish(`${entitySubjectPrefix('forge')}a_x`, encodeRecord(base(3)))
  await nc.flush()

  await caughtUp(b)
  t.same(await snapshot(b), before, 'the replica is unchanged')
  const { rejected } = await b.nodeStatus()
  t.same(rejected, { malformed: 1, schema: 1, unauthenticated: 3, legacy: 1, 'newer-schema': 1, 'wrong-key': 2, 'wrong-namespace': 1, 'stale-version': 1 }, 'every forgery was counted by reason')

  // The latest record of the key is now a forgery: honest writers still build on the latest valid version.
  const next = await b.put('db/pass', { p: 'v3' }, { ifVersion: 2 })
  t.equal(next.version, 3)
  await caughtUp(a)
  t.same((await a.get('db/pass')).value, { p: 'v3' }, 'and every replica applies it')
})
