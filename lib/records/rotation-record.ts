/**
 * The records of a staged rotation, transaction records like a changeset
 * (schema 3, each on a subject of its own, never deleted by the per-key
 * limit), tagged under the `transaction` subkey over every field:
 *
 * - `stage` opens a rotation: its changes (each key's next version, values
 *   sealed bound to the rotation's id, so they never open as anything else),
 *   the hosts that must acknowledge, and an optional deadline;
 * - `ack` is one host's answer (ok, or failed with a message);
 * - `release` makes every staged change current at its own sequence, as one
 *   changeset; `abort` closes the rotation without.
 *
 * Whether each counts is the verdict's (lib/verdict.ts), from log order alone.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { TagParts } from '../authenticator.js'
import { AuthSchema, RecordMetaSchema, SignatureSchema, signed, type RecordKeys, type RecordMeta } from './record.js'
import { ChangesSchema, changesProblem, TRANSACTION_SCHEMA_VERSION, sealChanges, type PlainChange } from './transaction-record.js'

/** The most hosts a rotation waits for. */
export const MAX_ROTATION_HOSTS = 1024
/** The longest message an acknowledgement carries (a failed test's output, cut to fit). */
export const MAX_ACK_MESSAGE = 4096

const Id = Type.String({ format: 'uuid' })
const NodeId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' })
const common = { v: Type.Literal(TRANSACTION_SCHEMA_VERSION), ns: Type.String({ minLength: 1, maxLength: 64 }), id: Id, meta: RecordMetaSchema, auth: AuthSchema, sig: Type.Optional(SignatureSchema) }

export const StageRecordSchema = Type.Object({
  ...common,
  op: Type.Literal('stage'),
  changes: ChangesSchema,
  hosts: Type.Array(NodeId, { minItems: 1, maxItems: MAX_ROTATION_HOSTS, uniqueItems: true }),
  deadline: Type.Optional(Type.String({ format: 'date-time', maxLength: 64 }))
}, { additionalProperties: false })

export const AckRecordSchema = Type.Object({
  ...common,
  op: Type.Literal('ack'),
  rotation: Id,
  ok: Type.Boolean(),
  message: Type.Optional(Type.String({ maxLength: MAX_ACK_MESSAGE }))
}, { additionalProperties: false })

export const ReleaseRecordSchema = Type.Object({
  ...common,
  op: Type.Literal('release'),
  rotation: Id,
  forced: Type.Boolean()
}, { additionalProperties: false })

export const AbortRecordSchema = Type.Object({
  ...common,
  op: Type.Literal('abort'),
  rotation: Id,
  reason: Type.Optional(Type.String({ maxLength: MAX_ACK_MESSAGE }))
}, { additionalProperties: false })

export type StageRecord = Static<typeof StageRecordSchema>
export type AckRecord = Static<typeof AckRecordSchema>
export type ReleaseRecord = Static<typeof ReleaseRecordSchema>
export type AbortRecord = Static<typeof AbortRecordSchema>
/** Any record of a rotation. */
export type RotationRecord = StageRecord | AckRecord | ReleaseRecord | AbortRecord
/** A record that answers or closes a rotation (every one but the stage). */
export type RotationDecision = AckRecord | ReleaseRecord | AbortRecord

/** What a rotation record's tag covers, in a fixed order: every field but the tag. */
export function rotationTagParts (r: Omit<RotationRecord, 'auth'> & { op: RotationRecord['op'] }): TagParts {
  const parts: Array<string | number> = [r.v, r.ns, r.op, r.id, r.meta.updatedAt, r.meta.nodeId, r.meta.correlationId]
  const record = r as RotationRecord
  switch (record.op) {
    case 'stage':
      parts.push(record.hosts.length, ...record.hosts, record.deadline ?? '', record.changes.length)
      for (const c of record.changes) {
        parts.push(c.key, c.version, c.op)
        if (c.op !== 'delete') parts.push(c.value.kid, c.value.iv, c.value.ct)
      }
      break
    case 'ack':
      parts.push(record.rotation, record.ok ? 1 : 0, record.message ?? '')
      break
    case 'release':
      parts.push(record.rotation, record.forced ? 1 : 0)
      break
    case 'abort':
      parts.push(record.rotation, record.reason ?? '')
      break
  }
  return parts
}

function tagged<R extends Omit<RotationRecord, 'auth'>> (record: R, keys: RecordKeys): R & { auth: { kid: string, tag: string } } {
  return signed({ ...record, auth: { kid: keys.authenticator.kid, tag: keys.authenticator.tag('transaction', rotationTagParts(record)) } }, keys)
}

/** Builds a stage record: the rotation `id`, its changes sealed to it, the hosts to wait for. */
export function buildStage (ns: string, id: string, meta: RecordMeta, changes: PlainChange[], hosts: string[], deadline: string | undefined, keys: RecordKeys): StageRecord {
  const record = { v: TRANSACTION_SCHEMA_VERSION, ns, op: 'stage', id, meta, changes: sealChanges(ns, id, meta, changes, keys), hosts, ...(deadline !== undefined ? { deadline } : {}) } as const
  return tagged(record, keys)
}

/** Builds a decision on `rotation`: an acknowledgement, a release or an abort (its own record `id`). */
export function buildDecision (ns: string, id: string, meta: RecordMeta, decision: { op: 'ack', rotation: string, ok: boolean, message?: string } | { op: 'release', rotation: string, forced: boolean } | { op: 'abort', rotation: string, reason?: string }, keys: RecordKeys): RotationDecision {
  return tagged({ v: TRANSACTION_SCHEMA_VERSION, ns, id, meta, ...decision }, keys) as RotationDecision
}

const checks = {
  stage: Compile(StageRecordSchema),
  ack: Compile(AckRecordSchema),
  release: Compile(ReleaseRecordSchema),
  abort: Compile(AbortRecordSchema)
}

/** Validates a parsed rotation record (by its `op`): the record, or what is wrong with it. */
export function checkRotationRecord (parsed: unknown): { ok: true, record: RotationRecord } | { ok: false, detail: string } {
  const op = (parsed as { op?: unknown } | null)?.op
  const check = typeof op === 'string' && Object.hasOwn(checks, op) ? checks[op as keyof typeof checks] : undefined
  if (check === undefined) return { ok: false, detail: `no transaction record has op ${JSON.stringify(op)}` }
  if (!check.Check(parsed)) {
    const first = check.Errors(parsed)[0]
    return { ok: false, detail: first === undefined ? `invalid ${op} record` : `${first.instancePath || '/'} ${first.message}` }
  }
  const record = parsed as RotationRecord
  const problem = record.op === 'stage' ? changesProblem(record.changes) : undefined
  return problem === undefined ? { ok: true, record } : { ok: false, detail: problem }
}
