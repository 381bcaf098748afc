/**
 * TypeBox schemas of the HTTP API: every request part and every response
 * body. The route handlers take their types from these with `Static<>`.
 * Response bodies are the public shapes of lib/shapes/, written once there.
 */
import { Type, type Static } from 'typebox'
import { KeyFailureSchema } from '../shapes/changeset.js'
import { SeqSchema, VersionSchema } from '../shapes/numbers.js'

export { JsonObjectSchema } from '../shapes/json.js'
export { EntitySchema } from '../shapes/entity.js'
export { WriteBodySchema } from '../shapes/write-result.js'
export { ListPageSchema } from '../shapes/list-page.js'
export { HistoryBodySchema } from '../shapes/history.js'
export { DaemonStatusSchema, type DaemonStatus } from '../shapes/status.js'
export { NodeRowSchema, NodesSchema, type NodeRow } from '../shapes/node-row.js'
export { ReseedResultSchema } from '../shapes/reseed.js'
export { ChangesetBodySchema, CommitResultSchema } from '../shapes/changeset.js'
export { TimingsSchema } from '../shapes/timings.js'

/** Every error: `code` from the catalogue, and the details some codes carry. */
export const ErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  key: Type.Optional(Type.String()),
  expectedVersion: Type.Optional(VersionSchema),
  currentVersion: Type.Optional(VersionSchema),
  /** A refused changeset: every key that failed, and why. */
  failures: Type.Optional(Type.Array(KeyFailureSchema))
})

/** The body of every error answer. */
export type ErrorBody = Static<typeof ErrorSchema>

/** The wildcard path parameter that holds a key (decoded). */
export const KeyParamsSchema = Type.Object({ '*': Type.String() })

/** `GET /v1/entities/{key}?version=N` or `?stage=pending`. */
export const GetQuerySchema = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  /** `pending`: the value an open rotation stages, not the current one. */
  stage: Type.Optional(Type.Literal('pending'))
})

/** `GET /v1/entities?prefix=&limit=&after=`. */
export const ListQuerySchema = Type.Object({
  prefix: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  after: Type.Optional(Type.String())
})

/** `GET /v1/watch?prefix=&since=`. */
export const WatchQuerySchema = Type.Object({
  prefix: Type.Optional(Type.String()),
  since: Type.Optional(SeqSchema)
})

/** `GET /v1/nodes?key=`. */
export const NodesQuerySchema = Type.Object({ key: Type.Optional(Type.String({ minLength: 1 })) })

export { AbortBodySchema, AckBodySchema, ReleaseBodySchema, RotationEventSchema, RotationListSchema, RotationSchema, StageBodySchema } from '../shapes/rotation.js'

/** `/v1/rotations/{id}…`: a rotation's id, a uuid. */
export const RotationParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })

export { CreatedTokenSchema, CreateTokenBodySchema, TokenInfoSchema, TokenListSchema, TokenParamsSchema } from '../shapes/token.js'
export { AuditPageSchema } from '../shapes/audit.js'
export { PolicyInForceSchema, PutPolicyBodySchema, ResealBodySchema, ResealResultSchema } from '../shapes/policy.js'

/** `GET /v1/audit?prefix=&since=&after=&limit=`. */
export const AuditQuerySchema = Type.Object({
  prefix: Type.Optional(Type.String()),
  /** Entries written at or after this ISO-8601 time. */
  since: Type.Optional(Type.String({ minLength: 1 })),
  /** Entries after this log sequence (a page's `next`). */
  after: Type.Optional(SeqSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 }))
})
