/**
 * The audit trail: who wrote, deleted, staged, acknowledged, released or
 * aborted what, when, under which correlation id, and whether every replica
 * applied it (`GET /v1/audit`, `credreg audit`).
 */
import { Type, type Static } from 'typebox'
import { SeqSchema } from './numbers.js'

export const AuditEntrySchema = Type.Object({
  /** The record's position in the log. */
  seq: SeqSchema,
  /** What the record does: a key's write, a version of the policy, a changeset, or a rotation's stage, ack, release or abort. */
  op: Type.Union([
    Type.Literal('put'), Type.Literal('patch'), Type.Literal('delete'), Type.Literal('policy'), Type.Literal('changeset'),
    Type.Literal('stage'), Type.Literal('ack'), Type.Literal('release'), Type.Literal('abort')
  ]),
  /** The keys it writes (for a rotation's records, the keys the rotation stages). */
  keys: Type.Array(Type.String()),
  /** The rotation, for a rotation's records. */
  rotation: Type.Optional(Type.String()),
  /** Who: the node id the record names; under a policy, the name the policy gives its verified signer (they must agree). */
  nodeId: Type.String(),
  /** The public key whose signature verified, under a policy (the admin key for a policy); absent in open mode, where `nodeId` is only claimed. */
  signer: Type.Optional(Type.String()),
  /** When, by the writer's clock. */
  at: Type.String(),
  correlationId: Type.String(),
  /** `applied`, or why every replica refused it (e.g. `unauthorized`, `stale-version`). */
  outcome: Type.String()
})

/** One record of the audit trail. */
export type AuditEntry = Static<typeof AuditEntrySchema>

/** A page of the audit trail, oldest first; `next` is the `after` of the next page. */
export const AuditPageSchema = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  next: Type.Optional(SeqSchema)
})

export type AuditPage = Static<typeof AuditPageSchema>
