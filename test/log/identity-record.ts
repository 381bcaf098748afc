import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Authenticator } from '../../lib/authenticator.js'
import { decodeIdentity, encodeIdentity, MAX_LINEAGE } from '../../lib/log/identity-record.js'

const authenticator = new Authenticator(randomBytes(32))
const S = 'CREDREG_default'

t.test('identity records round-trip tagged, with their lineage bounded', async t => {
  t.same(decodeIdentity(S, encodeIdentity(S, { id: 'abc', lineage: ['S@x', 'S@y'], base: 7 }, authenticator), authenticator),
    { record: { id: 'abc', lineage: ['S@x', 'S@y'], base: 7 }, verified: true })
  const long = Array.from({ length: MAX_LINEAGE + 5 }, (_, i) => `S@${i}`)
  t.equal(decodeIdentity(S, encodeIdentity(S, { id: 'abc', lineage: long }, authenticator), authenticator)?.record.lineage.length, MAX_LINEAGE, 'the oldest names are dropped')
})

t.test('a record whose tag does not hold is no identity at all: forged, altered, of another stream or key', async t => {
  const genuine = JSON.parse(encodeIdentity(S, { id: 'abc', lineage: ['S@x'] }, authenticator)) as Record<string, unknown>
  const forgeries = {
    'a made-up tag': { ...genuine, tag: randomBytes(32).toString('base64url') },
    'another id under the genuine tag': { ...genuine, id: 'mallory' },
    'a lineage changed under the genuine tag': { ...genuine, lineage: ['S@mallory'] },
    'a base added under the genuine tag': { ...genuine, base: 5 },
    'the claim that every record is tagged added under the genuine tag': { ...genuine, authenticated: true }
  }
  for (const [name, forged] of Object.entries(forgeries)) t.equal(decodeIdentity(S, JSON.stringify(forged), authenticator), undefined, name)
  t.equal(decodeIdentity('CREDREG_other', JSON.stringify(genuine), authenticator), undefined, 'the tag binds the stream name')
  t.equal(decodeIdentity(S, JSON.stringify(genuine), new Authenticator(randomBytes(32))), undefined, 'and the namespace key')
})

t.test('records made before tags read as unverified, never as verified', async t => {
  t.same(decodeIdentity(S, '0b6f5c1e-6a4e-4a55-9d3c-9e8f3b1f2a10', authenticator), { record: { id: '0b6f5c1e-6a4e-4a55-9d3c-9e8f3b1f2a10', lineage: [] }, verified: false })
  t.same(decodeIdentity(S, '{"id":"abc","lineage":["S@x"]}', authenticator), { record: { id: 'abc', lineage: ['S@x'] }, verified: false })
})

t.test('anything else is unreadable, never guessed', async t => {
  for (const text of ['', '{', '{"id":1,"lineage":[]}', '{"id":"a"}', '{"id":"a","lineage":[],"x":1}', 'has spaces', '[]']) {
    t.equal(decodeIdentity(S, text, authenticator), undefined, JSON.stringify(text))
  }
})
