/**
 * An entity: one version of one key, with who wrote it, when and why.
 */
import { Type, type Static } from 'typebox'
import { JsonObjectSchema } from './json.js'
import { VersionSchema } from './numbers.js'

/** What kind of write produced a version. */
export const WriteOpSchema = Type.Union([Type.Literal('put'), Type.Literal('patch'), Type.Literal('delete')])

/** What kind of write produced a version. */
export type WriteOp = Static<typeof WriteOpSchema>

/** Who wrote a version, when and why. */
export const EntityMetaSchema = Type.Object({
  /** ISO-8601 time at which the writing node created the record. */
  updatedAt: Type.String(),
  /** Node id of the writer. */
  nodeId: Type.String(),
  /** A uuid v7 that follows the write through logs on every host. */
  correlationId: Type.String(),
  /** The kind of write. */
  op: WriteOpSchema,
  /**
   * The writer's public key, from its verified signature: set for versions
   * written under a policy (and for the policy's own, signed by the admin
   * key). Under a policy `nodeId` is the name the policy gives that key.
   */
  signer: Type.Optional(Type.String())
})

/** Who wrote a version, when and why. */
export type EntityMeta = Static<typeof EntityMetaSchema>

/** One version of one key, as read from the local replica (`GET /v1/entities/{key}` → 200). */
export const EntitySchema = Type.Object({
  key: Type.String(),
  /** 1, 2, 3… per key; gapless in the log; a delete is a version too. */
  version: VersionSchema,
  /** The value; absent only for a delete (tombstone) read from history. */
  value: Type.Optional(JsonObjectSchema),
  meta: EntityMetaSchema,
  /** Set on a staged value (read with `stage: 'pending'`): the open rotation that stages it. */
  rotation: Type.Optional(Type.String())
})

/** One version of one key, as read from the local replica. */
export type Entity = Static<typeof EntitySchema>
