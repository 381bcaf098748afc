/**
 * One daemon of the namespace as read from its membership record (`GET /v1/nodes`).
 */
import { Type, type Static } from 'typebox'
import { SeqSchema, VersionSchema } from './numbers.js'

/** One row of `GET /v1/nodes`. */
export const NodeRowSchema = Type.Object({
  nodeId: Type.String(),
  hostname: Type.String(),
  /**
   * `alive`, or `gone` for a peer not heard from for 3 heartbeat intervals
   * (kept 60 more intervals, then dropped).
   */
  state: Type.Union([Type.Literal('alive'), Type.Literal('gone')]),
  /** Last log sequence the node applied. */
  appliedSeq: SeqSchema,
  /** How far the node is behind the log. */
  lag: SeqSchema,
  /** Seconds since the node wrote its last membership record (0 for the answering node). */
  lastSeenS: Type.Number({ minimum: 0 }),
  /** The credreg version the node runs. */
  version: Type.String(),
  /** ISO-8601 time the node's daemon started. */
  startedAt: Type.String(),
  /**
   * With `?key=K`: the version of K the node holds (0: none), told from its
   * applied sequence and the answering node's history of K; for a node ahead
   * of the answering one, that version or a later one; `null` when the node is
   * behind the oldest version the answering node keeps (`--history`).
   */
  keyVersion: Type.Optional(Type.Union([VersionSchema, Type.Null()]))
})

/** One daemon of the namespace as read from its membership record, this one first in `GET /v1/nodes`. */
export type NodeRow = Static<typeof NodeRowSchema>

/** `GET /v1/nodes?key=` → 200: every node heard from, this one first. */
export const NodesSchema = Type.Array(NodeRowSchema)
