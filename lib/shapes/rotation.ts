/**
 * A staged rotation: changes held back until every host that must take them
 * has acknowledged them, then released as one changeset (or aborted).
 */
import { Type, type Static } from 'typebox'
import { WriteOpSchema } from './entity.js'
import { ChangesetBodySchema } from './changeset.js'
import { SeqSchema, VersionSchema } from './numbers.js'

/** Where a rotation stands. */
export const RotationStageSchema = Type.Union([Type.Literal('staged'), Type.Literal('released'), Type.Literal('aborted')])

/** One host a rotation waits for, as this node sees it. */
export const RotationHostSchema = Type.Object({
  nodeId: Type.String(),
  /** `ok` / `failed`: its latest acknowledgement; `silent`: none yet. */
  ack: Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Literal('silent')]),
  /** What a failed (or ok) acknowledgement said. */
  message: Type.Optional(Type.String()),
  /** When it acknowledged (its own clock). */
  ackedAt: Type.Optional(Type.String()),
  /**
   * Whether the host holds the staged values (it has applied the stage), as
   * far as this daemon heard from it; absent when unknown (an embedded node).
   */
  holds: Type.Optional(Type.Boolean())
})

/** A rotation: what it stages, on which versions, who must acknowledge, and where it stands. */
export const RotationSchema = Type.Object({
  /** The rotation's id (a uuid); the released changes carry it as their changeset id. */
  id: Type.String(),
  status: RotationStageSchema,
  /** Log sequence of the stage. */
  seq: SeqSchema,
  stagedAt: Type.String(),
  stagedBy: Type.String(),
  /** Each staged key: the version it becomes on release, built on `builtOn`. */
  changes: Type.Array(Type.Object({ key: Type.String(), version: VersionSchema, builtOn: VersionSchema, op: WriteOpSchema })),
  hosts: Type.Array(RotationHostSchema),
  /** After it, any node aborts the rotation if it is still open. */
  deadline: Type.Optional(Type.String()),
  /** The release or abort that closed it. */
  closed: Type.Optional(Type.Object({
    seq: SeqSchema,
    at: Type.String(),
    by: Type.String(),
    /** A release without every acknowledgement. */
    forced: Type.Optional(Type.Boolean()),
    /** Why it was aborted. */
    reason: Type.Optional(Type.String())
  }))
})

/** A rotation and where it stands. */
export type Rotation = Static<typeof RotationSchema>

/** `POST /v1/rotations` and `credreg stage`: the changes (as a changeset's), and optionally who must acknowledge and by when. */
export const StageBodySchema = Type.Object({
  ...ChangesetBodySchema.properties,
  /** Node ids that must acknowledge; default: every host heard from (the daemon), this node (an embedded one). */
  hosts: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }), { minItems: 1, maxItems: 1024 })),
  /** Seconds from now after which any node aborts the rotation if it is still open. */
  deadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 24 * 3600 }))
}, { additionalProperties: false })

/** The body of `POST /v1/rotations`. */
export type StageBody = Static<typeof StageBodySchema>

/** `POST /v1/rotations/{id}/acks`. */
export const AckBodySchema = Type.Object({
  ok: Type.Boolean(),
  /**
   * What the host checked, or why it failed: a test's output, which the node
   * cuts to the 4096 characters a record holds, saying so (the request's body
   * limit bounds what is sent).
   */
  message: Type.Optional(Type.String())
}, { additionalProperties: false })

/** `POST /v1/rotations/{id}/release`. */
export const ReleaseBodySchema = Type.Object({
  /** Release without every acknowledgement (recorded as forced). */
  force: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

/** `POST /v1/rotations/{id}/abort`. */
export const AbortBodySchema = Type.Object({
  /** Why; cut to 4096 characters by the node, as an acknowledgement's message. */
  reason: Type.Optional(Type.String())
}, { additionalProperties: false })

/** A rotation record applied, as watchers of rotations see it. */
export const RotationEventSchema = Type.Object({
  /** `staged`, `acked` (one host's acknowledgement), `released` or `aborted`. */
  event: Type.Union([Type.Literal('staged'), Type.Literal('acked'), Type.Literal('released'), Type.Literal('aborted')]),
  rotation: Type.String(),
  seq: SeqSchema,
  /** The host that wrote the record (for `acked`: the host that acknowledged). */
  nodeId: Type.String(),
  /** For `acked`: whether it acknowledged ok. */
  ok: Type.Optional(Type.Boolean()),
  /** For `acked`: its message; for `aborted`: the reason. */
  message: Type.Optional(Type.String()),
  /** For `released`: whether without every acknowledgement. */
  forced: Type.Optional(Type.Boolean())
})

/** A rotation record applied. */
export type RotationEvent = Static<typeof RotationEventSchema>

/** `GET /v1/rotations` → 200: the open rotations, oldest first. */
export const RotationListSchema = Type.Object({ rotations: Type.Array(RotationSchema) })
