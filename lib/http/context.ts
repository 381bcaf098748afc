/**
 * What the HTTP routes work with: the node, the view of its peers, the
 * metrics and a few facts about the daemon.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { CredregNode } from '../types.js'
import type { Metrics } from './metrics.js'
import type { NodeRow } from './schemas.js'

/** The daemons of the namespace, as this one knows them. */
export interface NodesView {
  /** Every node heard from, this one first; with `key`, the version of it each one holds. */
  list: (key?: string) => Promise<NodeRow[]>
}

/** Facts about the running daemon. */
export interface DaemonInfo {
  hostname: string
  /** When the daemon started. */
  startedAt: Date
  /** The credreg version it runs. */
  version: string
}

/** Everything the routes share. */
export interface HttpContext {
  node: CredregNode
  nodes: NodesView
  metrics: Metrics
  info: DaemonInfo
  /** Interval of the comment heartbeat on watch streams. */
  sseHeartbeatMs: number
}

/** The fastify instance the routes register on, typed by the TypeBox provider. */
export type HttpApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>
