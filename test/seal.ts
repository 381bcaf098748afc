import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Sealer } from '../lib/seal.js'

const context = { namespace: 'default', key: 'svc/db', version: 3 }

t.test('a sealed value opens under the same key and context only', async t => {
  const sealer = new Sealer(randomBytes(32))
  const plain = Buffer.from('{"password":"hunter2"}')
  const sealed = sealer.seal(plain, context)
  t.notOk(Buffer.from(sealed.ct, 'base64').includes(plain), 'the ciphertext does not contain the plaintext')
  t.same(sealer.open(sealed, context), plain)
  t.throws(() => sealer.open(sealed, { ...context, version: 4 }), 'another version does not authenticate')
  t.throws(() => sealer.open(sealed, { ...context, key: 'svc/other' }), 'another key does not authenticate')
  t.throws(() => sealer.open(sealed, { ...context, namespace: 'prod' }), 'another namespace does not authenticate')
  const tampered = Buffer.from(sealed.ct, 'base64')
  tampered[0] = (tampered[0] ?? 0) ^ 1
  t.throws(() => sealer.open({ ...sealed, ct: tampered.toString('base64') }, context), 'a flipped bit does not authenticate')
  t.throws(() => new Sealer(randomBytes(32)).open(sealed, context), /key id/, 'another data key is named as such')
})

t.test('two seals of one value differ (fresh nonce)', async t => {
  const sealer = new Sealer(randomBytes(32))
  const a = sealer.seal(Buffer.from('x'), context)
  const b = sealer.seal(Buffer.from('x'), context)
  t.not(a.iv, b.iv)
  t.not(a.ct, b.ct)
})

t.test('a data key must be 32 bytes', async t => {
  t.throws(() => new Sealer(randomBytes(16)), { code: 'INVALID_CONFIG' })
  t.throws(() => new Sealer(randomBytes(33)), { code: 'INVALID_CONFIG' })
})

t.test('a value of a schema 2 record is bound to the whole record, under a key of its own', async t => {
  const dataKey = randomBytes(32)
  const sealer = new Sealer(dataKey)
  const record = { op: 'put', meta: { updatedAt: '2026-11-29T10:00:00.000Z', nodeId: 'host-a', correlationId: '0193a0c4-7b2e-7000-8000-000000000001' } }
  const plain = Buffer.from('{"password":"hunter2"}')
  const sealed = sealer.seal(plain, { ...context, record })
  t.same(sealer.open(sealed, { ...context, record }), plain)
  t.throws(() => sealer.open(sealed, { ...context, record: { ...record, op: 'patch' } }), 'another op does not authenticate')
  t.throws(() => sealer.open(sealed, { ...context, record: { ...record, meta: { ...record.meta, nodeId: 'mallory' } } }), 'another writer does not authenticate')
  t.throws(() => sealer.open(sealed, context), 'nor does the binding of schema 1 records')
  const legacy = sealer.seal(plain, context)
  t.throws(() => sealer.open(legacy, { ...context, record }), 'a schema 1 value does not pass for a schema 2 one')
  t.same(new Sealer(dataKey).open(legacy, context), plain, 'schema 1 values still open under the data key itself')
})
