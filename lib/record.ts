/**
 * The wire record: one per write, the unit of the change log. Records carry
 * whole sealed values (never deltas), so a replica that missed versions still
 * converges on the newest one.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'

/** The schema version this node writes and reads. */
export const RECORD_SCHEMA_VERSION = 1

const SealedSchema = Type.Object({
  kid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  iv: Type.String({ maxLength: 64 }),
  ct: Type.String()
}, { additionalProperties: false })

const RecordMetaSchema = Type.Object({
  updatedAt: Type.String({ format: 'date-time' }),
  nodeId: Type.String({ minLength: 1, maxLength: 128 }),
  correlationId: Type.String({ format: 'uuid' })
}, { additionalProperties: false })

const Common = {
  v: Type.Literal(RECORD_SCHEMA_VERSION),
  ns: Type.String({ minLength: 1, maxLength: 64 }),
  key: Type.String({ minLength: 1, maxLength: 256 }),
  version: Type.Integer({ minimum: 1 }),
  meta: RecordMetaSchema
}

/** A record as published to the log. */
export const LogRecordSchema = Type.Union([
  Type.Object({ ...Common, op: Type.Union([Type.Literal('put'), Type.Literal('patch')]), value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ ...Common, op: Type.Literal('delete') }, { additionalProperties: false })
])

export type LogRecord = Static<typeof LogRecordSchema>
export type RecordMeta = Static<typeof RecordMetaSchema>

const checkRecord = Compile(LogRecordSchema)

/** Why a record was refused; the apply loop counts rejections by reason. */
export type RejectReason = 'malformed' | 'newer-schema' | 'schema' | 'wrong-key' | 'wrong-namespace' | 'seal' | 'stale-version'

/** The outcome of decoding a log entry. */
export type DecodeResult =
  | { ok: true, record: LogRecord }
  | { ok: false, reason: RejectReason, detail: string }

/** Serializes a record for the log. */
export function encodeRecord (record: LogRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record))
}

/**
 * Parses and validates a record read from the log under `key` (`undefined`
 * when its subject maps to no key). Never throws: anything off is a reason.
 */
export function decodeRecord (data: Uint8Array, key: string | undefined, namespace: string): DecodeResult {
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
  if (!checkRecord.Check(parsed)) {
    const first = checkRecord.Errors(parsed)[0]
    return { ok: false, reason: 'schema', detail: first === undefined ? 'invalid record' : `${first.instancePath || '/'} ${first.message}` }
  }
  if (key === undefined || parsed.key !== key) return { ok: false, reason: 'wrong-key', detail: `record for ${JSON.stringify(parsed.key)} on the subject of ${JSON.stringify(key)}` }
  if (parsed.ns !== namespace) return { ok: false, reason: 'wrong-namespace', detail: `record of namespace ${parsed.ns}` }
  return { ok: true, record: parsed }
}
