/**
 * The verdict, table by table: every rule with a record that passes it and
 * one that does not, the same answer every time, and no altered byte of a
 * valid record ever counting.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { Authenticator } from '../lib/authenticator.js'
import type { LogEntry } from '../lib/log/abstract-log.js'
import { buildRecord, encodeRecord, type LegacyRecord, type LogRecord } from '../lib/records/record.js'
import { Sealer } from '../lib/seal.js'
import type { WriteOp } from '../lib/types.js'
import { MAX_VALUE_BYTES_CEILING } from '../lib/value.js'
import { buildChangeset, type PlainChange } from '../lib/records/transaction-record.js'
import { NO_STATE, verdict, type KeyState, type StateInForce, type VerdictContext } from '../lib/verdict.js'
import { recordKeys } from './fixtures/record-keys.js'
import { policyRecord } from './fixtures/policy.js'
import { POLICY_KEY, PolicyInForce, type Policy } from '../lib/identity/policy.js'
import { SigningKey } from '../lib/identity/signing-key.js'
import { buildStage } from '../lib/records/rotation-record.js'

const dataKey = randomBytes(32)
const ctx: VerdictContext = { namespace: 'ns', authenticator: new Authenticator(dataKey), sealer: new Sealer(dataKey), legacy: false }
const meta = { updatedAt: '2026-11-29T10:00:00.000Z', nodeId: 'host-a', correlationId: uuidv7() }

/** What a record is to say; `sealedAs`: the version its value is sealed (or a delete tagged) for. */
interface Spec { ns: string, key: string, version: number, op: WriteOp, plaintext: Buffer, sealedAs: number, meta: typeof meta }

function unsigned (key: string, version: number, op: WriteOp = 'put', plaintext: string | Buffer = '{"p":"s3cret"}', sealedAs = version): Spec {
  return { ns: 'ns', key, version, op, plaintext: Buffer.from(plaintext), sealedAs, meta }
}
/** The record as a holder of `key` writes it (then claiming `version`). */
function signed (spec: Spec, key: Uint8Array = dataKey): LogRecord {
  const built = buildRecord({ ns: spec.ns, key: spec.key, version: spec.sealedAs, meta: spec.meta }, spec.op, spec.plaintext, recordKeys(key))
  return { ...built, version: spec.version }
}
const at = (seq: number, data: object | string | Uint8Array, key = 'db/pass'): LogEntry =>
  ({ seq, key, data: data instanceof Uint8Array ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)) })
const live = (version: number, seq: number): KeyState => ({ version, seq, op: 'put' })
/** The state in force: `db/pass` at `head` (nothing when absent). */
const holding = (head: KeyState | undefined): StateInForce => ({ ...NO_STATE, head: key => (key === 'db/pass' ? head : undefined) })
const gone = (version: number, seq: number): KeyState => ({ version, seq, op: 'delete' })
/** The record as an earlier release wrote it (schema 1): the value bound to namespace, key and version only, no tag. */
function legacy (spec: Spec): LegacyRecord {
  const common = { v: 1 as const, ns: spec.ns, key: spec.key, version: spec.version, meta: spec.meta }
  if (spec.op === 'delete') return { ...common, op: 'delete' }
  return { ...common, op: spec.op, value: ctx.sealer.seal(spec.plaintext, { namespace: spec.ns, key: spec.key, version: spec.sealedAs }) }
}

/** Every one-bit change of `data`: where `applies` says the changed bytes would count. */
function appliedFlips (data: Uint8Array, applies: (flipped: Buffer) => boolean): { tried: number, applied: string[] } {
  const applied: string[] = []
  let tried = 0
  for (let i = 0; i < data.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Buffer.from(data)
      flipped[i] = (flipped[i] as number) ^ (1 << bit)
      tried++
      if (applies(flipped)) applied.push(`byte ${i} bit ${bit}`)
    }
  }
  return { tried, applied }
}

interface Case { name: string, entry: LogEntry, head?: KeyState, legacy?: boolean, expect: true | string }

const cases: Case[] = [
  { name: 'a first version', entry: at(1, signed(unsigned('db/pass', 1))), expect: true },
  { name: 'the next version', entry: at(9, signed(unsigned('db/pass', 4))), head: live(3, 2), expect: true },
  { name: 'a version after versions this replica never saw, within the records since', entry: at(12, signed(unsigned('db/pass', 9))), head: live(3, 6), expect: true },
  { name: 'a patch record', entry: at(3, signed(unsigned('db/pass', 2, 'patch'))), head: live(1, 1), expect: true },
  { name: 'a delete of a live key', entry: at(3, signed(unsigned('db/pass', 2, 'delete'))), head: live(1, 1), expect: true },
  { name: 'a write after a delete', entry: at(4, signed(unsigned('db/pass', 3))), head: gone(2, 3), expect: true },
  { name: 'a delete after versions this replica never saw', entry: at(9, signed(unsigned('db/pass', 5, 'delete'))), head: gone(2, 3), expect: true },

  { name: 'bytes that are not JSON', entry: at(1, randomBytes(40)), expect: 'malformed' },
  { name: 'a record larger than any record', entry: at(1, Buffer.alloc(3 * 1024 * 1024, 0x20)), expect: 'malformed' },
  { name: 'JSON of another shape', entry: at(1, { hello: 'world' }), expect: 'schema' },
  { name: 'a newer schema', entry: at(1, { ...signed(unsigned('db/pass', 1)), v: 4 }), expect: 'newer-schema' },
  { name: 'a transaction record on a key\'s subject', entry: at(1, { ...signed(unsigned('db/pass', 1)), v: 3 }), expect: 'schema' },
  { name: 'a version past 2^53', entry: at(1, signed(unsigned('db/pass', 2 ** 53 + 10))), expect: 'schema' },
  { name: 'a version that is not an integer', entry: at(1, { ...signed(unsigned('db/pass', 1)), version: 1.5 }), expect: 'schema' },
  { name: 'a node id that is not a node id', entry: at(1, signed({ ...unsigned('db/pass', 1), meta: { ...meta, nodeId: 'x y' } })), expect: 'schema' },
  { name: 'an extra field', entry: at(1, { ...signed(unsigned('db/pass', 1)), extra: 1 }), expect: 'schema' },
  { name: 'a record of another key on this key\'s subject', entry: at(1, signed(unsigned('db/other', 1))), expect: 'wrong-key' },
  { name: 'a record on a subject that maps to no key', entry: { seq: 1, key: undefined, data: encodeRecord(signed(unsigned('db/pass', 1))) }, expect: 'wrong-key' },
  { name: 'a record of another namespace', entry: at(1, signed({ ...unsigned('db/pass', 1), ns: 'other' })), expect: 'wrong-namespace' },

  { name: 'no tag at all (a delete by someone without the key)', entry: at(2, legacy((unsigned('db/pass', 2, 'delete')))), head: live(1, 1), expect: 'legacy' },
  { name: 'a made-up tag', entry: at(2, { ...signed(unsigned('db/pass', 2, 'delete')), auth: { kid: ctx.authenticator.kid, tag: randomBytes(32).toString('base64url') } }), head: live(1, 1), expect: 'unauthenticated' },
  { name: 'a tag under another key', entry: at(1, signed(unsigned('db/pass', 1), randomBytes(32))), expect: 'unauthenticated' },
  { name: 'another key\'s id with this key\'s tag', entry: at(2, { ...signed(unsigned('db/pass', 2, 'delete')), auth: { kid: '0123456789abcdef', tag: (signed(unsigned('db/pass', 2, 'delete')) as { auth: { tag: string } }).auth.tag } }), head: live(1, 1), expect: 'unauthenticated' },
  { name: 'meta changed under a genuine tag', entry: at(1, { ...signed(unsigned('db/pass', 1)), meta: { ...meta, nodeId: 'mallory' } }), expect: 'unauthenticated' },
  { name: 'op changed under a genuine tag', entry: at(2, { ...signed(unsigned('db/pass', 2, 'put')), op: 'patch' }), head: live(1, 1), expect: 'unauthenticated' },

  { name: 'schema 1 while the log is not yet authenticated', entry: at(2, legacy((unsigned('db/pass', 2)))), head: live(1, 1), legacy: true, expect: true },
  { name: 'a schema 1 delete while the log is not yet authenticated', entry: at(2, legacy((unsigned('db/pass', 2, 'delete')))), head: live(1, 1), legacy: true, expect: true },
  { name: 'schema 1 with a value that does not open, even then', entry: at(2, legacy((unsigned('db/pass', 2, 'put', '{}', 5)))), head: live(1, 1), legacy: true, expect: 'seal' },

  { name: 'a sealed value moved to another version', entry: at(1, signed(unsigned('db/pass', 1, 'put', '{}', 2))), expect: 'unauthenticated' },
  { name: 'a value moved into another record', entry: at(2, { ...signed(unsigned('db/pass', 2)), value: (signed(unsigned('db/pass', 2, 'put', '{"p":"other"}')) as { value: unknown }).value, meta: { ...meta, nodeId: 'mallory' } }), head: live(1, 1), expect: 'unauthenticated' },
  { name: 'a value that is an array', entry: at(1, signed(unsigned('db/pass', 1, 'put', '[1,2]'))), expect: 'not-an-object' },
  { name: 'a value that is a number', entry: at(1, signed(unsigned('db/pass', 1, 'put', '3'))), expect: 'not-an-object' },
  { name: 'a value that is not JSON', entry: at(1, signed(unsigned('db/pass', 1, 'put', 'password=hunter2'))), expect: 'not-an-object' },
  { name: 'a value over the ceiling of every node\'s limit', entry: at(1, signed(unsigned('db/pass', 1, 'put', Buffer.from(`{"a":"${'x'.repeat(MAX_VALUE_BYTES_CEILING)}"}`)))), expect: 'too-large' },

  { name: 'a value nested deeper than any value may be', entry: at(1, signed(unsigned('db/pass', 1, 'put', `{"a":${'['.repeat(100)}${']'.repeat(100)}}`))), expect: 'too-large' },

  { name: 'the same version again', entry: at(5, signed(unsigned('db/pass', 3))), head: live(3, 4), expect: 'stale-version' },
  { name: 'an older version', entry: at(5, signed(unsigned('db/pass', 2))), head: live(3, 4), expect: 'stale-version' },
  { name: 'a jump further than the records since the latest', entry: at(8, signed(unsigned('db/pass', 10))), head: live(2, 5), expect: 'version-jump' },
  { name: 'a first version above its sequence', entry: at(3, signed(unsigned('db/pass', 4))), expect: 'version-jump' },
  { name: 'a delete as a first version', entry: at(1, signed(unsigned('db/pass', 1, 'delete'))), expect: 'nothing-to-delete' },
  { name: 'a delete right after a delete', entry: at(4, signed(unsigned('db/pass', 3, 'delete'))), head: gone(2, 3), expect: 'nothing-to-delete' }
]

t.test('the verdict on each kind of record', async t => {
  for (const c of cases) {
    const got = verdict(c.entry, holding(c.head), { ...ctx, legacy: c.legacy ?? false })
    t.equal(got.applied ? true : got.reason, c.expect, c.name)
    t.same(verdict(c.entry, holding(c.head), { ...ctx, legacy: c.legacy ?? false }), got, `${c.name}: the same verdict again`)
    if (!got.applied) t.notMatch(got.detail, /s3cret|hunter2/, `${c.name}: the reason quotes no value`)
  }
})

t.test('an unauthenticated record is never handed on; an authentic refused one is', async t => {
  const forged = verdict(at(1, signed(unsigned('db/pass', 1), randomBytes(32))), NO_STATE, ctx)
  t.equal(forged.record, undefined)
  const stale = verdict(at(5, signed(unsigned('db/pass', 2))), holding(live(3, 4)), ctx)
  t.equal(stale.record !== undefined && 'key' in stale.record ? stale.record.version : undefined, 2)
})

t.test('no change to any byte of a valid record is ever applied', async t => {
  const records = [signed(unsigned('db/pass', 2)), signed(unsigned('db/pass', 2, 'delete')), signed(unsigned('db/pass', 2, 'patch'))]
  let tried = 0
  for (const record of records) {
    const data = encodeRecord(record)
    t.equal(verdict(at(2, data), holding(live(1, 1)), ctx).applied, true, `the ${record.op} record itself applies`)
    const flips = appliedFlips(data, flipped => verdict(at(2, flipped), holding(live(1, 1)), ctx).applied)
    tried += flips.tried
    t.same(flips.applied, [], `no altered ${record.op} record applied`)
  }
  t.pass(`${tried} altered records, none applied`)
})

// Changesets: the same rule per key, all or nothing.
const csId = '01890000-0000-7000-8000-000000000001'
function changeset (changes: PlainChange[], key: Uint8Array = dataKey, id = csId): ReturnType<typeof buildChangeset> {
  return buildChangeset('ns', id, meta, changes, recordKeys(key))
}
const put = (key: string, version: number, plaintext = '{"p":"s3cret"}'): PlainChange => ({ key, version, op: 'put', plaintext: Buffer.from(plaintext) })
const txAt = (seq: number, data: object | Uint8Array, id = csId): LogEntry =>
  ({ seq, key: undefined, transaction: id, data: data instanceof Uint8Array ? data : Buffer.from(JSON.stringify(data)) })
/** `a` at version 3 (seq 4), `b` at version 1 (seq 2), nothing else. */
const twoKeys: StateInForce = { ...NO_STATE, head: key => ({ a: live(3, 4), b: live(1, 2) } as Record<string, KeyState | undefined>)[key] }

interface ChangesetCase { name: string, entry: LogEntry, state?: StateInForce, expect: true | string }
const changesetCases: ChangesetCase[] = [
  { name: 'every key at its next version', entry: txAt(9, changeset([put('a', 4), put('b', 2)])), state: twoKeys, expect: true },
  { name: 'new keys and a delete together', entry: txAt(9, changeset([put('c', 1), { key: 'b', version: 2, op: 'delete' }])), state: twoKeys, expect: true },
  { name: 'one key already at that version: all refused', entry: txAt(9, changeset([put('a', 3), put('b', 2)])), state: twoKeys, expect: 'stale-version' },
  { name: 'one key jumping further than the log has records', entry: txAt(9, changeset([put('a', 4), put('b', 20)])), state: twoKeys, expect: 'version-jump' },
  { name: 'a delete of a key that does not exist', entry: txAt(9, changeset([put('a', 4), { key: 'c', version: 1, op: 'delete' }])), state: twoKeys, expect: 'nothing-to-delete' },
  { name: 'a changeset of another namespace key', entry: txAt(9, changeset([put('a', 4)], randomBytes(32))), state: twoKeys, expect: 'unauthenticated' },
  { name: 'a made-up tag', entry: txAt(9, { ...changeset([put('a', 4)]), auth: { kid: ctx.authenticator.kid, tag: randomBytes(32).toString('base64url') } }), state: twoKeys, expect: 'unauthenticated' },
  { name: 'a change dropped from a genuine changeset', entry: txAt(9, { ...changeset([put('a', 4), put('b', 2)]), changes: changeset([put('a', 4), put('b', 2)]).changes.slice(0, 1) }), state: twoKeys, expect: 'unauthenticated' },
  { name: 'a changeset on another transaction\'s subject', entry: txAt(9, changeset([put('a', 4)]), '01890000-0000-7000-8000-000000000002'), state: twoKeys, expect: 'wrong-key' },
  { name: 'a key twice', entry: txAt(9, changeset([put('a', 4), put('a', 5)])), state: twoKeys, expect: 'schema' },
  { name: 'an invalid key', entry: txAt(9, changeset([put('a//b', 1)])), expect: 'schema' },
  { name: 'no change at all', entry: txAt(9, { ...changeset([put('a', 4)]), changes: [] }), expect: 'schema' },
  { name: 'a value that is not an object', entry: txAt(9, changeset([put('a', 4), put('b', 2, '[1]')])), state: twoKeys, expect: 'not-an-object' },
  { name: 'a newer transaction schema', entry: txAt(9, { ...changeset([put('a', 4)]), v: 4 }), expect: 'newer-schema' },
  { name: 'a key\'s record on a transaction subject', entry: txAt(9, signed(unsigned('db/pass', 1))), expect: 'schema' }
]

t.test('the verdict on changesets: each change by the rule of its key, all or none', async t => {
  for (const c of changesetCases) {
    const got = verdict(c.entry, c.state ?? NO_STATE, ctx)
    t.equal(got.applied ? true : got.reason, c.expect, c.name)
    t.same(verdict(c.entry, c.state ?? NO_STATE, ctx), got, `${c.name}: the same verdict again`)
    if (!got.applied) t.notMatch(got.detail, /s3cret/, `${c.name}: the reason quotes no value`)
  }
})

t.test('a value of a changeset never opens as a key\'s own record', async t => {
  const cs = changeset([put('db/pass', 4), put('b', 2)])
  const lifted = { v: 2, ns: 'ns', key: 'db/pass', version: 4, op: 'put', meta, value: (cs.changes[0] as { value: unknown }).value }
  t.equal(verdict(at(9, lifted), holding(live(3, 4)), ctx).applied, false, 'lifted out of its changeset, the value does not authenticate')
  const other = changeset([put('db/pass', 4), put('b', 2)], dataKey, '01890000-0000-7000-8000-000000000002')
  const moved = { ...cs, changes: [other.changes[0], cs.changes[1]] }
  t.equal(verdict(txAt(9, moved), twoKeys, ctx).applied, false, 'nor in another changeset')
})

t.test('no change to any byte of a valid changeset is ever applied', async t => {
  const data = encodeRecord(changeset([put('a', 4), { key: 'b', version: 2, op: 'delete' }]))
  t.equal(verdict(txAt(9, data), twoKeys, ctx).applied, true, 'the changeset itself applies')
  const { tried, applied } = appliedFlips(data, flipped => verdict(txAt(9, flipped), twoKeys, ctx).applied)
  t.same(applied, [], `${tried} altered changesets, none applied`)
})

// Under a policy: decided by signatures and grants, with no secret key at all.
const admin = SigningKey.generate()
const hostA = SigningKey.generate()
const hostB = SigningKey.generate()
const scopeKey = randomBytes(32)
const policyDoc: Policy = {
  admin: admin.publicKey,
  hosts: [
    { name: 'host-a', key: hostA.publicKey, write: ['db/', '_credreg/'], read: [''], rotations: false },
    { name: 'host-b', key: hostB.publicKey, write: ['other/'], read: ['other/'], rotations: true }
  ],
  scopes: [{ prefix: '', kids: [ctx.authenticator.kid] }, { prefix: 'db/shared/', kids: [new Sealer(scopeKey).kid] }]
}
const inForce = new PolicyInForce(1, policyDoc)
const underPolicy = (head?: KeyState): StateInForce => ({ ...holding(head), policy: () => inForce })
/** A record of `key` written by `host` in the name `name`, sealed under `sealKey`. */
function byHost (key: string, host: SigningKey | undefined, name = 'host-a', sealKey: Uint8Array = dataKey, plaintext = '{"p":"s3cret"}', op: WriteOp = 'put'): LogRecord {
  return buildRecord({ ns: 'ns', key, version: 1, meta: { ...meta, nodeId: name } }, op, op === 'delete' ? undefined : Buffer.from(plaintext), recordKeys(sealKey, host))
}
// A context whose keys have nothing to do with the namespace's: under a policy, none is used.
const keyless: VerdictContext = { namespace: 'ns', authenticator: new Authenticator(randomBytes(32)), sealer: new Sealer(randomBytes(32)), legacy: false }

const policyCases: Array<{ name: string, entry: LogEntry, state?: StateInForce, expect: true | string }> = [
  { name: 'a granted host, in its own name, within its grant', entry: at(1, byHost('db/pass', hostA)), expect: true },
  { name: 'a value that is not an object, from a granted host: its writer may write the key', entry: at(1, byHost('db/pass', hostA, 'host-a', dataKey, '[1]')), expect: true },
  { name: 'a value in a read scope, sealed under the scope\'s key', entry: at(1, byHost('db/shared/x', hostA, 'host-a', scopeKey), 'db/shared/x'), expect: true },
  { name: 'a record without a signature', entry: at(1, byHost('db/pass', undefined)), expect: 'unsigned' },
  { name: 'a signature under a key the policy does not grant', entry: at(1, byHost('db/pass', SigningKey.generate())), expect: 'unauthorized' },
  { name: 'a granted host writing in another host\'s name', entry: at(1, byHost('db/pass', hostB, 'host-a')), expect: 'unauthorized' },
  { name: 'a granted host beyond its grant', entry: at(1, byHost('db/pass', hostB, 'host-b')), expect: 'unauthorized' },
  { name: 'a key of the register\'s own, even within a grant', entry: at(1, byHost('_credreg/x', hostA), '_credreg/x'), expect: 'unauthorized' },
  { name: 'a value of a read scope sealed under another key', entry: at(1, byHost('db/shared/x', hostA), 'db/shared/x'), expect: 'scope-key' },
  { name: 'a signature over other fields', entry: at(1, { ...byHost('db/pass', hostA), meta: { ...meta, nodeId: 'host-a', correlationId: uuidv7() } }), expect: 'unauthenticated' },
  { name: 'the key rule still holds', entry: at(5, byHost('db/pass', hostA)), state: underPolicy(live(3, 4)), expect: 'stale-version' },
  { name: 'a policy signed by the admin key in force', entry: at(2, policyRecord('ns', 2, policyDoc, admin), POLICY_KEY), state: { ...underPolicy(), head: k => (k === POLICY_KEY ? live(1, 1) : undefined) }, expect: true },
  { name: 'a policy signed by a granted host', entry: at(2, policyRecord('ns', 2, policyDoc, hostA), POLICY_KEY), state: { ...underPolicy(), head: k => (k === POLICY_KEY ? live(1, 1) : undefined) }, expect: 'unauthorized' },
  { name: 'a policy naming its own admin key, once one is in force', entry: at(2, policyRecord('ns', 2, { ...policyDoc, admin: hostB.publicKey }, hostB), POLICY_KEY), state: { ...underPolicy(), head: k => (k === POLICY_KEY ? live(1, 1) : undefined) }, expect: 'unauthorized' },
  { name: 'a value record on the policy\'s key', entry: at(2, byHost(POLICY_KEY, hostA), POLICY_KEY), expect: 'schema' }
]

t.test('the verdict under a policy: signatures and grants, no secret key', async t => {
  for (const c of policyCases) {
    const state = c.state ?? underPolicy()
    const got = verdict(c.entry, state, keyless)
    t.equal(got.applied ? true : got.reason, c.expect, c.name)
    t.same(verdict(c.entry, state, ctx), got, `${c.name}: the same verdict with the namespace key`)
    if (!got.applied) t.notMatch(got.detail, /s3cret/, `${c.name}: the reason quotes no value`)
  }
  const first = verdict(at(1, policyRecord('ns', 1, policyDoc, admin), POLICY_KEY), NO_STATE, keyless)
  t.equal(first.applied, true, 'the first policy, in open mode, signed by the admin key it names')
  const stage = buildStage('ns', uuidv7(), { ...meta, nodeId: 'host-a' }, [put('db/pass', 1)], ['host-a'], undefined, recordKeys(dataKey, hostA))
  t.match(verdict(txAt(1, stage, stage.id), underPolicy(), keyless), { applied: false, reason: 'unauthorized', detail: /may not stage rotations/ })
})

t.test('no change to any byte of a signed record is ever applied', async t => {
  const data = encodeRecord(byHost('db/pass', hostA))
  t.equal(verdict(at(1, data), underPolicy(), keyless).applied, true)
  const { tried, applied } = appliedFlips(data, flipped => verdict(at(1, flipped), underPolicy(), keyless).applied)
  t.same(applied, [], `${tried} altered signed records, none applied`)
})
