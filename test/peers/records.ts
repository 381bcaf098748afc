import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Authenticator } from '../../lib/authenticator.js'
import { MAX_HEARTBEAT_BYTES, memberSubject, readHeartbeat, signHeartbeat, type HeartbeatFields } from '../../lib/peers/heartbeat-record.js'

const auth = new Authenticator(randomBytes(32))
const other = new Authenticator(randomBytes(32))
const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const fields: HeartbeatFields = { namespace: 'ns', nodeId: 'n1', hostname: 'h1', startedAt: '2026-01-01T00:00:00.000Z', beat: 3, at: '2026-01-01T00:00:15.000Z', appliedSeq: 7, logSeq: 9, version: '1.0.0' }
const SUBJECT = memberSubject('ns', 'n1')

t.test('a membership record reads back only as signed, under the same key, in its namespace, on its own subject', async t => {
  const hb = signHeartbeat(auth, fields)
  t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes(hb)), { record: hb })
  t.same(readHeartbeat(other, 'ns', SUBJECT, bytes(hb)), { ignored: 'forged' }, 'another key')
  t.same(readHeartbeat(auth, 'other', memberSubject('other', 'n1'), bytes(hb)), { ignored: 'malformed' }, 'another namespace')
  t.same(readHeartbeat(auth, 'ns', memberSubject('ns', 'n2'), bytes(hb)), { ignored: 'malformed' }, 'on another node\'s subject')
  for (const [field, value] of Object.entries({ hostname: 'h2', startedAt: '2026-01-02T00:00:00.000Z', beat: 4, at: '2026-01-01T00:01:00.000Z', appliedSeq: 1, logSeq: 1, version: '9' })) {
    t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes({ ...hb, [field]: value })), { ignored: 'forged' }, `${field} changed`)
  }
  t.same(readHeartbeat(auth, 'ns', memberSubject('ns', 'n2'), bytes({ ...hb, nodeId: 'n2' })), { ignored: 'forged' }, 'nodeId changed, on that node\'s subject')
  t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes({ ...hb, tag: randomBytes(32).toString('base64url') })), { ignored: 'forged' }, 'a random tag')
  const { tag: _tag, ...untagged } = hb
  t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes(untagged)), { ignored: 'malformed' }, 'no tag')
})

t.test('a node id with dots has one subject token of its own', async t => {
  t.equal(memberSubject('ns', 'web.1.example'), 'credreg.ns.m.web~1~example')
  const hb = signHeartbeat(auth, { ...fields, nodeId: 'web.1.example' })
  t.same(readHeartbeat(auth, 'ns', 'credreg.ns.m.web~1~example', bytes(hb)), { record: hb })
})

t.test('a core NATS heartbeat (v1, v2), an oversized or out-of-bounds record is ignored', async t => {
  const { tag: _tag, beat: _beat, at: _at, ...v1 } = signHeartbeat(auth, fields)
  t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes({ ...v1, v: 1 })), { ignored: 'version' })
  t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes({ ...signHeartbeat(auth, fields), v: 2 })), { ignored: 'version' })
  t.same(readHeartbeat(auth, 'ns', SUBJECT, new Uint8Array(MAX_HEARTBEAT_BYTES + 1)), { ignored: 'oversized' })
  t.same(readHeartbeat(auth, 'ns', SUBJECT, Buffer.from('not json')), { ignored: 'malformed' })
  for (const bad of [{ hostname: 'h'.repeat(256) }, { appliedSeq: 2 ** 53 }, { beat: -1 }, { startedAt: 'yesterday' }, { at: 'now' }, { extra: 1 }]) {
    t.same(readHeartbeat(auth, 'ns', SUBJECT, bytes(signHeartbeat(auth, { ...fields, ...bad }))), { ignored: 'malformed' }, JSON.stringify(bad).slice(0, 40))
  }
  t.same(readHeartbeat(auth, 'ns', 'credreg.ns.m.', bytes(signHeartbeat(auth, { ...fields, nodeId: '' }))), { ignored: 'malformed' }, 'an empty node id')
})
