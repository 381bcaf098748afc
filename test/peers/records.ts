import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Authenticator } from '../../lib/authenticator.js'
import { MAX_HEARTBEAT_BYTES, readHeartbeat, signHeartbeat, type HeartbeatFields } from '../../lib/peers/heartbeat-record.js'
import { readAnswer, readQuestion, signAnswer, signQuestion } from '../../lib/peers/key-query-record.js'

const auth = new Authenticator(randomBytes(32))
const other = new Authenticator(randomBytes(32))
const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const fields: HeartbeatFields = { namespace: 'ns', nodeId: 'n1', hostname: 'h1', startedAt: '2026-01-01T00:00:00.000Z', beat: 3, appliedSeq: 7, logSeq: 9, version: '1.0.0' }

t.test('a heartbeat reads back only as signed, under the same key, in its namespace', async t => {
  const hb = signHeartbeat(auth, fields)
  t.same(readHeartbeat(auth, 'ns', bytes(hb)), { record: hb })
  t.same(readHeartbeat(other, 'ns', bytes(hb)), { ignored: 'forged' }, 'another key')
  t.same(readHeartbeat(auth, 'other', bytes(hb)), { ignored: 'malformed' }, 'another namespace')
  for (const [field, value] of Object.entries({ nodeId: 'n2', hostname: 'h2', startedAt: '2026-01-02T00:00:00.000Z', beat: 4, appliedSeq: 1, logSeq: 1, version: '9' })) {
    t.same(readHeartbeat(auth, 'ns', bytes({ ...hb, [field]: value })), { ignored: 'forged' }, `${field} changed`)
  }
  t.same(readHeartbeat(auth, 'ns', bytes({ ...hb, tag: randomBytes(32).toString('base64url') })), { ignored: 'forged' }, 'a random tag')
  const { tag: _tag, ...untagged } = hb
  t.same(readHeartbeat(auth, 'ns', bytes(untagged)), { ignored: 'malformed' }, 'no tag')
})

t.test('a v1 heartbeat, an oversized or out-of-bounds one is ignored', async t => {
  const { tag: _tag, beat: _beat, ...v1 } = signHeartbeat(auth, fields)
  t.same(readHeartbeat(auth, 'ns', bytes({ ...v1, v: 1 })), { ignored: 'version' })
  t.same(readHeartbeat(auth, 'ns', new Uint8Array(MAX_HEARTBEAT_BYTES + 1)), { ignored: 'oversized' })
  t.same(readHeartbeat(auth, 'ns', Buffer.from('not json')), { ignored: 'malformed' })
  for (const bad of [{ hostname: 'h'.repeat(256) }, { nodeId: '' }, { appliedSeq: 2 ** 53 }, { beat: -1 }, { startedAt: 'yesterday' }, { extra: 1 }]) {
    t.same(readHeartbeat(auth, 'ns', bytes(signHeartbeat(auth, { ...fields, ...bad }))), { ignored: 'malformed' }, JSON.stringify(bad).slice(0, 40))
  }
})

t.test('a question is answered only when tagged and arriving with its own reply subject', async t => {
  const q = signQuestion(auth, { namespace: 'ns', from: 'n1', id: randomBytes(16).toString('base64url'), reply: '_INBOX.a', key: 'app/db' })
  t.same(readQuestion(auth, 'ns', bytes(q), '_INBOX.a'), { record: q })
  t.same(readQuestion(auth, 'ns', bytes(q), '_INBOX.b'), { ignored: 'forged' }, 'redirected to another reply subject')
  t.same(readQuestion(other, 'ns', bytes(q), '_INBOX.a'), { ignored: 'forged' }, 'another key')
  t.same(readQuestion(auth, 'ns', bytes({ ...q, key: 'app/other' }), '_INBOX.a'), { ignored: 'forged' }, 'another key asked')
  t.same(readQuestion(auth, 'ns', bytes({ v: 1, key: 'app/db', from: 'n1' }), '_INBOX.a'), { ignored: 'version' }, 'a v1 question')
})

t.test('an answer binds the question and the answering node', async t => {
  const q = signQuestion(auth, { namespace: 'ns', from: 'n1', id: randomBytes(16).toString('base64url'), reply: '_INBOX.a', key: 'app/db' })
  const q2 = signQuestion(auth, { ...q, id: randomBytes(16).toString('base64url') })
  const a = signAnswer(auth, q, 'n2', 4)
  t.same(readAnswer(auth, q, bytes(a)), { record: a })
  t.same(readAnswer(auth, q2, bytes(a)), { ignored: 'forged' }, 'replayed into another question')
  t.same(readAnswer(auth, q, bytes({ ...a, nodeId: 'n3' })), { ignored: 'forged' }, 'claimed by another node')
  t.same(readAnswer(auth, q, bytes({ ...a, version: 5 })), { ignored: 'forged' }, 'another version')
  t.same(readAnswer(auth, q, bytes({ v: 1, nodeId: 'n2', version: 4 })), { ignored: 'version' }, 'a v1 answer')
})
