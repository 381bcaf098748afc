/**
 * Transaction records: records of the register as a whole rather than of
 * one key. A changeset (several keys written all or none) is one record on a
 * subject of its own (`credreg.<namespace>.tx.<id>`), never on its keys'
 * subjects: one record is the only unit a log appends atomically.
 *
 * A transaction record carries schema version 3, so a node of an earlier
 * release reads it as `newer-schema` (and says to upgrade) rather than as a
 * malformed record. It is authenticated twice over: an HMAC-SHA256 tag under
 * the `transaction` subkey covers every field (ciphertexts included), and
 * each value is sealed bound to its key, version, op, the record's meta and
 * the transaction id, so no value of a changeset ever opens outside it.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { TagParts } from '../authenticator.js'
import { keyProblem } from '../key.js'
import { AuthSchema, RecordMetaSchema, SealedSchema, SignatureSchema, sealContextOf, signed, type RecordKeys, type RecordMeta } from './record.js'
import type { SealContext } from '../seal.js'
import type { WriteOp } from '../types.js'

/** The schema version of transaction records. */
export const TRANSACTION_SCHEMA_VERSION = 3

/**
 * The most keys one changeset changes (Consul's transactions take 64, etcd's
 * 128): enough to rotate every credential of a service together, few enough
 * that a changeset always fits one log message.
 */
export const MAX_CHANGESET_KEYS = 64

const Id = Type.String({ format: 'uuid' })
const Key = Type.String({ minLength: 1, maxLength: 256 })
const Version = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })

const ChangeSchema = Type.Union([
  Type.Object({ key: Key, version: Version, op: Type.Union([Type.Literal('put'), Type.Literal('patch')]), value: SealedSchema }, { additionalProperties: false }),
  Type.Object({ key: Key, version: Version, op: Type.Literal('delete') }, { additionalProperties: false })
])

/** The changes of a changeset (or of a staged rotation): 1 to {@link MAX_CHANGESET_KEYS}, each key once. */
export const ChangesSchema = Type.Array(ChangeSchema, { minItems: 1, maxItems: MAX_CHANGESET_KEYS })

/** A changeset as published to the log: every change lands at the record's sequence, or none does. */
export const ChangesetRecordSchema = Type.Object({
  v: Type.Literal(TRANSACTION_SCHEMA_VERSION),
  ns: Type.String({ minLength: 1, maxLength: 64 }),
  op: Type.Literal('changeset'),
  id: Id,
  meta: RecordMetaSchema,
  changes: ChangesSchema,
  auth: AuthSchema,
  sig: Type.Optional(SignatureSchema)
}, { additionalProperties: false })

export type ChangesetRecord = Static<typeof ChangesetRecordSchema>
/** One change of a changeset record: a key's next version, its value sealed (absent for a delete). */
export type RecordedChange = ChangesetRecord['changes'][number]

/** A change as a writer hands it to {@link buildChangeset}: the plaintext is sealed there. */
export interface PlainChange {
  key: string
  version: number
  op: WriteOp
  /** The serialized value; absent for a delete. */
  plaintext?: Uint8Array
}

const changesetCheck = Compile(ChangesetRecordSchema)

/** What a changeset's value is bound to: the change, the record's meta and the changeset's id. */
export function changeSealContext (ns: string, id: string, meta: RecordMeta, change: { key: string, version: number, op: string }): SealContext {
  const context = sealContextOf({ ns, key: change.key, version: change.version, meta, op: change.op })
  return { ...context, record: { ...(context.record as NonNullable<SealContext['record']>), transaction: id } }
}

/** What a changeset's tag covers, in a fixed order: every field but the tag, ciphertexts included. */
export function changesetTagParts (r: Omit<ChangesetRecord, 'auth'>): TagParts {
  const parts: Array<string | number> = [r.v, r.ns, r.op, r.id, r.meta.updatedAt, r.meta.nodeId, r.meta.correlationId, r.changes.length]
  for (const c of r.changes) {
    parts.push(c.key, c.version, c.op)
    if (c.op !== 'delete') parts.push(c.value.kid, c.value.iv, c.value.ct)
  }
  return parts
}

/** Seals each change's value bound to its place in transaction `id`. */
export function sealChanges (ns: string, id: string, meta: RecordMeta, changes: PlainChange[], keys: RecordKeys): RecordedChange[] {
  return changes.map((c): RecordedChange => {
    if (c.op === 'delete') return { key: c.key, version: c.version, op: 'delete' }
    if (c.plaintext === undefined) throw new TypeError(`a ${c.op} change needs a value`)
    return { key: c.key, version: c.version, op: c.op, value: keys.sealerFor(c.key).seal(c.plaintext, changeSealContext(ns, id, meta, c)) }
  })
}

/** Builds a changeset record: each value sealed to its place in it, the whole tagged. */
export function buildChangeset (ns: string, id: string, meta: RecordMeta, changes: PlainChange[], keys: RecordKeys): ChangesetRecord {
  const record = { v: TRANSACTION_SCHEMA_VERSION, ns, op: 'changeset', id, meta, changes: sealChanges(ns, id, meta, changes, keys) } as const
  return signed({ ...record, auth: { kid: keys.authenticator.kid, tag: keys.authenticator.tag('transaction', changesetTagParts(record)) } }, keys)
}

/** Why a list of changes breaks what its schema cannot say (valid keys, each once), or `undefined`. */
export function changesProblem (changes: RecordedChange[]): string | undefined {
  const seen = new Set<string>()
  for (const { key } of changes) {
    const problem = keyProblem(key)
    if (problem !== undefined) return `change of ${JSON.stringify(key)}: ${problem}`
    if (seen.has(key)) return `${key} changes twice`
    seen.add(key)
  }
  return undefined
}

/** Validates a parsed changeset record: the record, or what is wrong with it. */
export function checkChangeset (parsed: unknown): { ok: true, record: ChangesetRecord } | { ok: false, detail: string } {
  if (!changesetCheck.Check(parsed)) {
    const first = changesetCheck.Errors(parsed)[0]
    return { ok: false, detail: first === undefined ? 'invalid changeset record' : `${first.instancePath || '/'} ${first.message}` }
  }
  const problem = changesProblem(parsed.changes)
  return problem === undefined ? { ok: true, record: parsed } : { ok: false, detail: problem }
}
