/**
 * A changeset: several keys written all or none, at one log sequence
 * (`node.commit`, `client.commit`, `POST /v1/changesets`, `credreg apply`).
 */
import { Type, type Static } from 'typebox'
import { JsonObjectSchema, LoosePatchOperationSchema, PatchOperationSchema } from './json.js'
import { SeqSchema, VersionSchema } from './numbers.js'

/** The most keys one changeset changes (as `MAX_CHANGESET_KEYS` of the record). */
export const MAX_CHANGES = 64

const key = Type.String()
const conditions = {
  /** Write only if this is still the key's latest version (0: the key never existed). */
  ifVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Write only if the key never existed or its latest version is a delete. */
  ifAbsent: Type.Optional(Type.Boolean())
}

/** One change of a changeset, by its op: a put's `value`, a patch's RFC 6902 `ops`, a merge's RFC 7396 `patch`. */
export const ChangeSchema = Type.Union([
  Type.Object({ key, op: Type.Literal('put'), value: JsonObjectSchema, ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('patch'), ops: Type.Array(PatchOperationSchema), ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('merge'), patch: JsonObjectSchema, ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('delete'), ...conditions }, { additionalProperties: false })
])

/** One change of a changeset. */
export type Change = Static<typeof ChangeSchema>

/** The same change as the wire takes it: RFC 6902 operations of any `op`, checked when applied. */
const WireChangeSchema = Type.Union([
  Type.Object({ key, op: Type.Literal('put'), value: JsonObjectSchema, ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('patch'), ops: Type.Array(LoosePatchOperationSchema), ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('merge'), patch: JsonObjectSchema, ...conditions }, { additionalProperties: false }),
  Type.Object({ key, op: Type.Literal('delete'), ...conditions }, { additionalProperties: false })
])

/** `POST /v1/changesets` and the document `credreg apply` reads: `{ "changes": [ … ] }`. */
export const ChangesetBodySchema = Type.Object({
  changes: Type.Array(WireChangeSchema, { minItems: 1, maxItems: MAX_CHANGES })
}, { additionalProperties: false })

/** The body of `POST /v1/changesets`. */
export type ChangesetBody = Static<typeof ChangesetBodySchema>

/** What one key of a committed changeset became. */
export const ChangeResultSchema = Type.Object({
  key,
  /** The version the change created (for a delete: its tombstone version). */
  version: VersionSchema,
  /** Whether the key was absent (or deleted) before. */
  created: Type.Boolean()
})

/** What one key of a committed changeset became. */
export type ChangeResult = Static<typeof ChangeResultSchema>

/** What a committed changeset answers (`POST /v1/changesets` → 201). */
export const CommitResultSchema = Type.Object({
  /** The changeset's id (a uuid): every change event of it carries it. */
  id: Type.String(),
  /** The one log sequence every change landed at. */
  seq: SeqSchema,
  /** The correlation id the changeset was recorded under. */
  correlationId: Type.String(),
  /** One entry per change, in the order given. */
  results: Type.Array(ChangeResultSchema)
})

/** What a committed changeset answers. */
export type CommitResult = Static<typeof CommitResultSchema>

/** Where a change event of a changeset sits in it. */
export const ChangesetPositionSchema = Type.Object({
  /** The changeset's id. */
  id: Type.String(),
  /** This change's place in the changeset, from 0. */
  index: Type.Integer({ minimum: 0 }),
  /** How many changes the changeset made. */
  size: Type.Integer({ minimum: 1 })
})

/** Where a change event of a changeset sits in it. */
export type ChangesetPosition = Static<typeof ChangesetPositionSchema>

/** Why one key of a refused changeset failed: its error code, and the versions for a conflict. */
export const KeyFailureSchema = Type.Object({
  key,
  code: Type.String(),
  message: Type.String(),
  expectedVersion: Type.Optional(VersionSchema),
  currentVersion: Type.Optional(VersionSchema)
})

/** Why one key of a refused changeset failed. */
export type KeyFailure = Static<typeof KeyFailureSchema>
