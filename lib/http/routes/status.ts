/**
 * `GET /v1/status`: this daemon and its replica.
 */
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, DaemonStatusSchema, type DaemonStatus } from '../schemas.js'

/** Registers the status route. */
export function statusRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/v1/status', { schema: { response: { 200: DaemonStatusSchema, '5xx': ErrorSchema } } }, async () => {
    const s = await ctx.node.nodeStatus()
    const { hostname, startedAt, version } = ctx.info
    const body: DaemonStatus = {
      nodeId: s.nodeId,
      hostname,
      mode: s.mode,
      namespace: s.namespace,
      appliedSeq: s.appliedSeq,
      logSeq: s.logSeq,
      lag: s.lag,
      nats: { connected: s.mode === 'cluster' && s.connected, ...(s.server !== undefined ? { server: s.server } : {}) },
      entities: s.entities,
      rejected: s.rejected,
      ...(s.diverged !== undefined ? { diverged: s.diverged } : {}),
      identity: s.identity,
      startedAt: startedAt.toISOString(),
      uptimeS: Math.floor((Date.now() - startedAt.getTime()) / 1000),
      version
    }
    return body
  })
}
