/**
 * The status of a node, and of the daemon around it (`GET /v1/status`).
 */
import { Type, type Static } from 'typebox'
import { NodeIdentitySchema } from './identity.js'
import { CountSchema, SeqSchema } from './numbers.js'

/** Lifecycle status of a node or log. */
export const LifecycleStatusSchema = Type.Union([Type.Literal('opening'), Type.Literal('open'), Type.Literal('closing'), Type.Literal('closed')])

/** Lifecycle status of a node or log. */
export type Status = Static<typeof LifecycleStatusSchema>

/** What a node's `nodeStatus` reports. */
export const NodeStatusSchema = Type.Object({
  nodeId: Type.String(),
  mode: Type.Union([Type.Literal('standalone'), Type.Literal('cluster')]),
  namespace: Type.String(),
  status: LifecycleStatusSchema,
  /** Last log sequence applied to the replica. */
  appliedSeq: SeqSchema,
  /** Last sequence known in the log (as of the last contact). */
  logSeq: SeqSchema,
  /** `logSeq - appliedSeq`, never negative. */
  lag: SeqSchema,
  /** Whether the log can take writes right now. */
  connected: Type.Boolean(),
  /** The NATS server connected to, in cluster mode. */
  server: Type.Optional(Type.String()),
  /** Live (not deleted) entities in the replica. */
  entities: CountSchema,
  /** Records refused by the apply loop since open, by reason. */
  rejected: Type.Record(Type.String(), CountSchema),
  /** Set when the log is not the one this replica was built from; writes are refused. */
  diverged: Type.Optional(Type.Object({ reason: Type.String(), since: Type.String() })),
  /** The node's host key, the data keys it holds, and its grant under the policy in force. */
  identity: NodeIdentitySchema
})

/** What a node's `nodeStatus` reports. */
export type NodeStatus = Static<typeof NodeStatusSchema>

const node = NodeStatusSchema.properties

/**
 * What `GET /v1/status` reports: the node's status (without its lifecycle
 * status, with its connection under `nats`) and facts about the daemon.
 */
export const DaemonStatusSchema = Type.Object({
  nodeId: node.nodeId,
  /** The daemon's host. */
  hostname: Type.String(),
  mode: node.mode,
  namespace: node.namespace,
  /** Last log sequence applied to the replica. */
  appliedSeq: node.appliedSeq,
  /** Last sequence known in the log (as of the last contact). */
  logSeq: node.logSeq,
  /** `logSeq - appliedSeq`, never negative. */
  lag: node.lag,
  /** Whether the log can take writes right now (always `false` standalone), and the NATS server connected to. */
  nats: Type.Object({ connected: node.connected, server: node.server }),
  /** Live (not deleted) entities in the replica. */
  entities: node.entities,
  /** Records refused by the apply loop since the daemon started, by reason. */
  rejected: node.rejected,
  /** Set when the log is not the one this replica was built from; writes are refused. */
  diverged: node.diverged,
  /** The daemon's host key, the data keys it holds, and its grant under the policy in force. */
  identity: node.identity,
  /** ISO-8601 time the daemon started. */
  startedAt: Type.String(),
  /** Seconds since the daemon started. */
  uptimeS: Type.Number({ minimum: 0 }),
  /** The credreg version the daemon runs. */
  version: Type.String()
})

/** What `GET /v1/status` reports about the daemon and its replica. */
export type DaemonStatus = Static<typeof DaemonStatusSchema>
