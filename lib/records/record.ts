/**
 * The wire record: one per write, the unit of the change log. Records carry
 * whole sealed values (never deltas), so a replica that missed versions still
 * converges on the newest one.
 *
 * Schema version 2 authenticates every field under the namespace data key. A
 * put or patch seals its value with AES-GCM bound to the namespace, key,
 * version, op and meta (lib/seal.ts), so the value's tag authenticates the
 * whole record at no cost beyond opening it; a delete, which has no value,
 * carries `auth.tag`, an HMAC over every field under the `record` subkey
 * (lib/authenticator.ts). Version 1 records (values bound to namespace, key
 * and version only; deletes unauthenticated) are still read from logs written
 * before it, under the rule in lib/verdict.ts.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator, TagParts } from '../authenticator.js'
import { POLICY_KEY, PolicySchema, policyProblem } from '../identity/policy.js'
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN, type SigningKey } from '../identity/signing-key.js'
import { signRecord } from '../identity/signature.js'
import type { SealContext, Sealer } from '../seal.js'
import type { WriteOp } from '../types.js'
import { MAX_VALUE_BYTES_CEILING } from '../value.js'

/** The schema version this node writes. */
export const RECORD_SCHEMA_VERSION = 2
/** The unauthenticated schema version of earlier releases, still read. */
export const LEGACY_SCHEMA_VERSION = 1

// Every field of a record but the ciphertext: bounded by the schema below.
const RECORD_OVERHEAD_BYTES = 2048

/** The length in base64 of a sealed value of `maxValueBytes` (its ciphertext and GCM tag). */
export function maxSealedChars (maxValueBytes: number): number {
  return Math.ceil((maxValueBytes + 16) / 3) * 4
}

/** The largest encoded record holding a value of `maxValueBytes`: its ciphertext in base64 plus every other field. */
export function maxRecordBytes (maxValueBytes: number): number {
  return maxSealedChars(maxValueBytes) + RECORD_OVERHEAD_BYTES
}

/** The largest encoded record a node reads. */
export const MAX_RECORD_BYTES = maxRecordBytes(MAX_VALUE_BYTES_CEILING)

/** A sealed value as records carry it. */
export const SealedSchema = Type.Object({
  kid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  iv: Type.String({ maxLength: 64 }),
  // Bounded by the size of the whole record; the verdict bounds the plaintext.
  ct: Type.String()
}, { additionalProperties: false })

/** Who wrote a record, when, and under which correlation id. */
export const RecordMetaSchema = Type.Object({
  updatedAt: Type.String({ format: 'date-time', maxLength: 64 }),
  nodeId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
  correlationId: Type.String({ format: 'uuid' })
}, { additionalProperties: false })

/** An HMAC tag and the id of the key it was made under. */
export const AuthSchema = Type.Object({
  kid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  tag: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })
}, { additionalProperties: false })

/**
 * A record's Ed25519 signature by its writer (lib/identity/signature.ts),
 * over every other field: required once a policy is in force, where it is
 * what authenticates the record and names who wrote it.
 */
export const SignatureSchema = Type.Object({
  pub: Type.String({ pattern: PUBLIC_KEY_PATTERN }),
  sig: Type.String({ pattern: SIGNATURE_PATTERN })
}, { additionalProperties: false })

function fieldsOf<V extends number> (v: V) {
  return {
    v: Type.Literal(v),
    ns: Type.String({ minLength: 1, maxLength: 64 }),
    key: Type.String({ minLength: 1, maxLength: 256 }),
    // Past 2^53 version arithmetic is no longer exact: no honest writer gets there.
    version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    meta: RecordMetaSchema
  }
}
const Common = { ...fieldsOf(RECORD_SCHEMA_VERSION), sig: Type.Optional(SignatureSchema) }
const LegacyCommon = fieldsOf(LEGACY_SCHEMA_VERSION)
const ValueOp = Type.Union([Type.Literal('put'), Type.Literal('patch')])

/**
 * A version of the policy (key `_credreg/policy`): the document in plain
 * text, signed by the admin key (lib/identity/policy.ts).
 */
export const PolicyRecordSchema = Type.Object({ ...Common, op: Type.Literal('put'), policy: PolicySchema, sig: SignatureSchema }, { additionalProperties: false })

/** A record as published to the log (schema version 2). */
export const LogRecordSchema = Type.Union([
  Type.Object({ ...Common, op: ValueOp, value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ ...Common, op: Type.Literal('delete'), auth: AuthSchema }, { additionalProperties: false }),
  PolicyRecordSchema
])

const LegacyRecordSchema = Type.Union([
  Type.Object({ ...LegacyCommon, op: ValueOp, value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ ...LegacyCommon, op: Type.Literal('delete') }, { additionalProperties: false })
])

export type LogRecord = Static<typeof LogRecordSchema>
/** A version of the policy. */
export type PolicyRecord = Static<typeof PolicyRecordSchema>
/** A record of a key's value (schema 2): a put, patch or delete of any key but the policy's. */
export type ValueRecord = Exclude<LogRecord, PolicyRecord>
export type RecordMeta = Static<typeof RecordMetaSchema>
/** A record of schema version 1: values bound to namespace, key and version only, deletes unauthenticated. */
export type LegacyRecord = Static<typeof LegacyRecordSchema>
/** A record of either schema version, as read. */
export type ReadRecord = LogRecord | LegacyRecord

/** What every record carries besides its op and value. */
export interface RecordHead { ns: string, key: string, version: number, meta: RecordMeta }

/**
 * What records are sealed, tagged and signed with: the sealer of each key's
 * read scope, the namespace's authenticator and, once a policy is in force,
 * the host key (absent: the record is not signed).
 */
export interface RecordKeys {
  sealerFor: (key: string) => Sealer
  authenticator: Authenticator
  signer?: SigningKey | undefined
}

/** `record` signed by `keys.signer`, or as it is when there is none. */
export function signed<R extends object> (record: R, keys: RecordKeys): R {
  return keys.signer === undefined ? record : signRecord(record, keys.signer)
}

const checkRecord = Compile(LogRecordSchema)
const checkLegacy = Compile(LegacyRecordSchema)

/**
 * What a value is bound to: for a record of schema 2, every field of the
 * record but the value itself; for one of schema 1, its namespace, key and version.
 */
export function sealContextOf (record: RecordHead & { op: string }, schema: 1 | 2 = RECORD_SCHEMA_VERSION): SealContext {
  const bound = { namespace: record.ns, key: record.key, version: record.version }
  return schema === LEGACY_SCHEMA_VERSION ? bound : { ...bound, record: { op: record.op, meta: record.meta } }
}

/** What a delete's tag covers, in a fixed order: every field but the tag itself. */
export function deleteTagParts (r: RecordHead): TagParts {
  return [RECORD_SCHEMA_VERSION, r.ns, r.key, r.version, 'delete', r.meta.updatedAt, r.meta.nodeId, r.meta.correlationId]
}

/**
 * Builds a record of schema 2, as a writer publishes it: a put or patch
 * seals `plaintext` bound to every other field; a delete is tagged.
 */
export function buildRecord (head: RecordHead, op: WriteOp, plaintext: Uint8Array | undefined, keys: RecordKeys): ValueRecord {
  const common = { v: RECORD_SCHEMA_VERSION, ns: head.ns, key: head.key, version: head.version, meta: head.meta } as const
  if (op === 'delete') return signed({ ...common, op, auth: { kid: keys.authenticator.kid, tag: keys.authenticator.tag('record', deleteTagParts(head)) } }, keys)
  if (plaintext === undefined) throw new TypeError(`a ${op} record needs a value`)
  return signed({ ...common, op, value: keys.sealerFor(head.key).seal(plaintext, sealContextOf({ ...head, op })) }, keys)
}

/** Builds a version of the policy, signed by the admin key. */
export function buildPolicyRecord (head: RecordHead, policy: PolicyRecord['policy'], admin: SigningKey): PolicyRecord {
  return signRecord({ v: RECORD_SCHEMA_VERSION, ns: head.ns, key: head.key, version: head.version, meta: head.meta, op: 'put', policy } as const, admin)
}

/** Serializes a record for the log. */
export function encodeRecord (record: LogRecord | ReadRecord | { v: number }): Uint8Array {
  return Buffer.from(JSON.stringify(record))
}

/** Why a record could not even be read: the first steps of a verdict (lib/verdict.ts). */
export type DecodeFailure = 'malformed' | 'newer-schema' | 'schema' | 'wrong-key' | 'wrong-namespace'

/** The outcome of decoding a log entry. */
export type DecodeResult =
  | { ok: true, record: ReadRecord }
  | { ok: false, reason: DecodeFailure, detail: string }

/**
 * Parses and validates a record read from the log under `key` (`undefined`
 * when its subject maps to no key). Never throws: anything off is a reason.
 * Says nothing of authenticity: that is the verdict's first check.
 */
export function decodeRecord (data: Uint8Array, key: string | undefined, namespace: string): DecodeResult {
  const parsed = parseRecord(data)
  return parsed.ok ? checkKeyRecord(parsed.value, key, namespace) : parsed
}

/** The JSON of a record's bytes, within {@link MAX_RECORD_BYTES}, or why not (`malformed`). */
export function parseRecord (data: Uint8Array): { ok: true, value: unknown } | { ok: false, reason: 'malformed', detail: string } {
  if (data.byteLength > MAX_RECORD_BYTES) return { ok: false, reason: 'malformed', detail: `record of ${data.byteLength} bytes, over ${MAX_RECORD_BYTES}` }
  try {
    return { ok: true, value: JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) }
  } catch {
    return { ok: false, reason: 'malformed', detail: 'not JSON' }
  }
}

/** Validates a parsed record read under `key`: see {@link decodeRecord}. */
export function checkKeyRecord (parsed: unknown, key: string | undefined, namespace: string): DecodeResult {
  const v = (parsed as { v?: unknown } | null)?.v
  if (typeof v === 'number' && v > RECORD_SCHEMA_VERSION) {
    return { ok: false, reason: 'newer-schema', detail: `record schema version ${v} on a key's subject; this node reads up to ${RECORD_SCHEMA_VERSION} there: upgrade credreg` }
  }
  const check = v === LEGACY_SCHEMA_VERSION ? checkLegacy : checkRecord
  if (!check.Check(parsed)) {
    const first = check.Errors(parsed)[0]
    return { ok: false, reason: 'schema', detail: first === undefined ? 'invalid record' : `${first.instancePath || '/'} ${first.message}` }
  }
  const record = parsed as ReadRecord
  if ((record.key === POLICY_KEY) !== ('policy' in record)) {
    return { ok: false, reason: 'schema', detail: record.key === POLICY_KEY ? `${POLICY_KEY} holds policy records only` : 'a policy record on another key than the policy\'s' }
  }
  if ('policy' in record) {
    const problem = policyProblem(record.policy)
    if (problem !== undefined) return { ok: false, reason: 'schema', detail: `policy: ${problem}` }
  }
  if (key === undefined || record.key !== key) {
    return { ok: false, reason: 'wrong-key', detail: `record for ${JSON.stringify(record.key)} on the subject of ${JSON.stringify(key)}` }
  }
  if (record.ns !== namespace) return { ok: false, reason: 'wrong-namespace', detail: `record of namespace ${record.ns}` }
  return { ok: true, record }
}
