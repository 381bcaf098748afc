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
