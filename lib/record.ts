/**
 * The wire record: one per write, the unit of the change log. Records carry
 * whole sealed values (never deltas), so a replica that missed versions still
 * converges on the newest one.
 *
 * Schema version 2 authenticates every field: `auth.tag` is an HMAC over the
 * namespace, key, version, op, meta and sealed value under the `record`
 * subkey of the namespace data key (lib/authenticator.ts). Version 1 records
 * (no tag) are still read from logs written before it, under the rule in
 * lib/verdict.ts.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator, TagParts } from './authenticator.js'
import { MAX_VALUE_BYTES_CEILING } from './value.js'

/** The schema version this node writes. */
export const RECORD_SCHEMA_VERSION = 2
/** The unauthenticated schema version of earlier releases, still read. */
export const LEGACY_SCHEMA_VERSION = 1

// Every field of a record but the ciphertext: bounded by the schema below.
const RECORD_OVERHEAD_BYTES = 2048

/** The largest encoded record holding a value of `maxValueBytes`: its ciphertext in base64 plus every other field. */
export function maxRecordBytes (maxValueBytes: number): number {
  return Math.ceil((maxValueBytes + 16) / 3) * 4 + RECORD_OVERHEAD_BYTES
}

/** The largest encoded record a node reads. */
export const MAX_RECORD_BYTES = maxRecordBytes(MAX_VALUE_BYTES_CEILING)

const SealedSchema = Type.Object({
  kid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  iv: Type.String({ maxLength: 64 }),
  // Bounded by the size of the whole record; the verdict bounds the plaintext.
  ct: Type.String()
}, { additionalProperties: false })

const RecordMetaSchema = Type.Object({
  updatedAt: Type.String({ format: 'date-time', maxLength: 64 }),
  nodeId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
  correlationId: Type.String({ format: 'uuid' })
}, { additionalProperties: false })

const AuthSchema = Type.Object({
  kid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  tag: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })
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
const Common = { ...fieldsOf(RECORD_SCHEMA_VERSION), auth: AuthSchema }
const LegacyCommon = fieldsOf(LEGACY_SCHEMA_VERSION)
const ValueOp = Type.Union([Type.Literal('put'), Type.Literal('patch')])

/** A record as published to the log (schema version 2). */
export const LogRecordSchema = Type.Union([
  Type.Object({ ...Common, op: ValueOp, value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ ...Common, op: Type.Literal('delete') }, { additionalProperties: false })
])

const LegacyRecordSchema = Type.Union([
  Type.Object({ ...LegacyCommon, op: ValueOp, value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ ...LegacyCommon, op: Type.Literal('delete') }, { additionalProperties: false })
])

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export type LogRecord = Static<typeof LogRecordSchema>
export type RecordMeta = Static<typeof RecordMetaSchema>
/** A record of schema version 1: no `auth`. */
export type LegacyRecord = Static<typeof LegacyRecordSchema>
/** A record of either schema version, as read. */
export type ReadRecord = LogRecord | LegacyRecord
/** A record before it is tagged. */
export type UnsignedRecord = DistributiveOmit<LogRecord, 'auth'>

const checkRecord = Compile(LogRecordSchema)
const checkLegacy = Compile(LegacyRecordSchema)

/** What every record's tag covers, in a fixed order: every field but the tag itself. */
export function recordTagParts (r: UnsignedRecord | ReadRecord): TagParts {
  const value = 'value' in r ? r.value : undefined
  return [
    RECORD_SCHEMA_VERSION, r.ns, r.key, r.version, r.op,
    r.meta.updatedAt, r.meta.nodeId, r.meta.correlationId,
    value?.kid ?? '', value?.iv ?? '', value?.ct ?? ''
  ]
}

/** Tags a record under the namespace key: what a writer publishes. */
export function signRecord (record: UnsignedRecord, authenticator: Authenticator): LogRecord {
  return { ...record, auth: { kid: authenticator.kid, tag: authenticator.tag('record', recordTagParts(record)) } } as LogRecord
}

/** Serializes a record for the log. */
export function encodeRecord (record: LogRecord | ReadRecord): Uint8Array {
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
  if (data.byteLength > MAX_RECORD_BYTES) return { ok: false, reason: 'malformed', detail: `record of ${data.byteLength} bytes, over ${MAX_RECORD_BYTES}` }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  } catch {
    return { ok: false, reason: 'malformed', detail: 'not JSON' }
  }
  const v = (parsed as { v?: unknown } | null)?.v
  if (typeof v === 'number' && v > RECORD_SCHEMA_VERSION) {
    return { ok: false, reason: 'newer-schema', detail: `record schema version ${v}; this node reads up to ${RECORD_SCHEMA_VERSION}: upgrade credreg` }
  }
  const check = v === LEGACY_SCHEMA_VERSION ? checkLegacy : checkRecord
  if (!check.Check(parsed)) {
    const first = check.Errors(parsed)[0]
    return { ok: false, reason: 'schema', detail: first === undefined ? 'invalid record' : `${first.instancePath || '/'} ${first.message}` }
  }
  const record = parsed as ReadRecord
  if (key === undefined || record.key !== key) {
    return { ok: false, reason: 'wrong-key', detail: `record for ${JSON.stringify(record.key)} on the subject of ${JSON.stringify(key)}` }
  }
  if (record.ns !== namespace) return { ok: false, reason: 'wrong-namespace', detail: `record of namespace ${record.ns}` }
  return { ok: true, record }
}
