/**
 * TypeBox schemas of the HTTP API: every request part and every response
 * body. The route handlers take their types from these with `Static<>`.
 */
import { Type, type Static } from 'typebox'

const Op = Type.Union([Type.Literal('put'), Type.Literal('patch'), Type.Literal('delete')])
const Seq = Type.Integer({ minimum: 0 })
const Version = Type.Integer({ minimum: 0 })

/** A JSON object value. */
export const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown())

/** Who wrote a version, when and why. */
export const MetaSchema = Type.Object({
  updatedAt: Type.String(),
  nodeId: Type.String(),
  correlationId: Type.String(),
  op: Op
})

/** One RFC 6902 operation as found in history and change events. */
export const PatchOperationSchema = Type.Object({
  op: Type.String(),
  path: Type.String(),
  from: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown())
})

/** `GET /v1/entities/{key}` → 200. */
export const EntitySchema = Type.Object({
  key: Type.String(),
  version: Version,
  value: Type.Optional(JsonObjectSchema),
  meta: MetaSchema
})

/** Every write (PUT, PATCH, DELETE) answers this. */
export const WriteResultSchema = Type.Object({ key: Type.String(), version: Version })

/** Every error: `code` from the catalogue, and the details some codes carry. */
export const ErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  key: Type.Optional(Type.String()),
  expectedVersion: Type.Optional(Version),
  currentVersion: Type.Optional(Version)
})

/** The wildcard path parameter that holds a key (decoded). */
export const KeyParamsSchema = Type.Object({ '*': Type.String() })

/** `GET /v1/entities/{key}?version=N`. */
export const GetQuerySchema = Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) })

/** `GET /v1/entities?prefix=&limit=&after=`. */
export const ListQuerySchema = Type.Object({
  prefix: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  after: Type.Optional(Type.String())
})

/** `GET /v1/entities` → 200. */
export const ListPageSchema = Type.Object({
  items: Type.Array(Type.Object({ key: Type.String(), version: Version, updatedAt: Type.String() })),
  next: Type.Optional(Type.String())
})

/** `GET /v1/history/{key}` → 200, oldest version first. */
export const HistorySchema = Type.Object({
  key: Type.String(),
  versions: Type.Array(Type.Object({
    version: Version,
    seq: Seq,
    op: Op,
    meta: MetaSchema,
    patch: Type.Array(PatchOperationSchema)
  }))
})

/** `GET /v1/watch?prefix=&since=`. */
export const WatchQuerySchema = Type.Object({
  prefix: Type.Optional(Type.String()),
  since: Type.Optional(Seq)
})

/** `GET /v1/status` → 200. */
export const StatusSchema = Type.Object({
  nodeId: Type.String(),
  hostname: Type.String(),
  mode: Type.Union([Type.Literal('standalone'), Type.Literal('cluster')]),
  namespace: Type.String(),
  appliedSeq: Seq,
  logSeq: Seq,
  lag: Seq,
  nats: Type.Object({ connected: Type.Boolean(), server: Type.Optional(Type.String()) }),
  entities: Type.Integer({ minimum: 0 }),
  rejected: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  diverged: Type.Optional(Type.Object({ reason: Type.String(), since: Type.String() })),
  startedAt: Type.String(),
  uptimeS: Type.Number({ minimum: 0 }),
  version: Type.String()
})

/** One row of `GET /v1/nodes`. */
export const NodeRowSchema = Type.Object({
  nodeId: Type.String(),
  hostname: Type.String(),
  /**
   * `alive`, or `gone` for a peer not heard from for 3 heartbeat intervals
   * (kept 60 more intervals, then dropped).
   */
  state: Type.Union([Type.Literal('alive'), Type.Literal('gone')]),
  appliedSeq: Seq,
  lag: Seq,
  /** Seconds since the node's last heartbeat (0 for the answering node). */
  lastSeenS: Type.Number({ minimum: 0 }),
  /** The credreg version the node runs. */
  version: Type.String(),
  startedAt: Type.String(),
  /** With `?key=K`: the version of K the node holds (0: none), `null` when it did not answer in time. */
  keyVersion: Type.Optional(Type.Union([Version, Type.Null()]))
})

/** `GET /v1/nodes?key=` → 200: every node heard from, this one first. */
export const NodesSchema = Type.Array(NodeRowSchema)

/** `GET /v1/nodes?key=`. */
export const NodesQuerySchema = Type.Object({ key: Type.Optional(Type.String({ minLength: 1 })) })

export type EntityBody = Static<typeof EntitySchema>
export type StatusBody = Static<typeof StatusSchema>
export type NodeRow = Static<typeof NodeRowSchema>
export type ErrorBody = Static<typeof ErrorSchema>

/** `POST /v1/admin/reseed` → 200. */
export const ReseedSchema = Type.Object({
  identity: Type.String(),
  previous: Type.String(),
  keys: Type.Integer({ minimum: 0 }),
  versions: Type.Integer({ minimum: 0 }),
  rebaseUntil: Seq
})
