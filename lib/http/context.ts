/**
 * What the HTTP routes work with: the node, the view of its peers, the
 * metrics, the scoped tokens and a few facts about the daemon.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { TokenStore } from '../daemon/token-store.js'
import type { SelfInfo } from '../peers/heartbeat.js'
import type { NodesView } from '../peers/nodes-view.js'
import type { CredregNode } from '../types.js'
import type { StageTimings } from '../timings/stage-timings.js'
import type { Metrics } from './metrics.js'

/** Everything the routes share. */
export interface HttpContext {
  node: CredregNode
  /** The nodes of the namespace (`GET /v1/nodes`). */
  peers: NodesView
  metrics: Metrics
  /** The stage timings of writes and propagation (`GET /v1/timings`, the stage histograms); absent, nothing is timed. */
  timings?: StageTimings
  /** The daemon's host name, version and start time. */
  info: SelfInfo
  /** Interval of the comment heartbeat on watch streams. */
  sseHeartbeatMs: number
  /** The scoped tokens: the apps' socket and the TCP listener accept them, the admin socket manages them. */
  tokens: TokenStore
}

/** The fastify instance the routes register on, typed by the TypeBox provider. */
export type HttpApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>
