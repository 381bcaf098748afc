import t from 'tap'
import { decodeIdentity, encodeIdentity, MAX_LINEAGE } from '../../lib/log/identity.js'

t.test('identity records round-trip, with their lineage bounded', async t => {
  t.same(decodeIdentity(encodeIdentity({ id: 'abc', lineage: ['S@x', 'S@y'] })), { id: 'abc', lineage: ['S@x', 'S@y'] })
  const long = Array.from({ length: MAX_LINEAGE + 5 }, (_, i) => `S@${i}`)
  t.equal(decodeIdentity(encodeIdentity({ id: 'abc', lineage: long }))?.lineage.length, MAX_LINEAGE, 'the oldest names are dropped')
})

t.test('a bare id (streams made before lineage) reads as a history continuing none', async t => {
  t.same(decodeIdentity('0b6f5c1e-6a4e-4a55-9d3c-9e8f3b1f2a10'), { id: '0b6f5c1e-6a4e-4a55-9d3c-9e8f3b1f2a10', lineage: [] })
})

t.test('anything else is unreadable, never guessed', async t => {
  for (const text of ['', '{', '{"id":1,"lineage":[]}', '{"id":"a"}', '{"id":"a","lineage":[],"x":1}', 'has spaces', '[]']) {
    t.equal(decodeIdentity(text), undefined, JSON.stringify(text))
  }
})
