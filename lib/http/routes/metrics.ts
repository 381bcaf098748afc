/**
 * `GET /metrics`: Prometheus text exposition.
 */
import { watchLoad } from '../../node.js'
import type { HttpApp, HttpContext } from '../context.js'

/** Registers the metrics route. */
export function metricsRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/metrics', async (_request, reply) => {
    const [status, rotations] = await Promise.all([ctx.node.nodeStatus(), ctx.node.rotations()])
    const text = await ctx.metrics.render(status, watchLoad(ctx.node), rotations.length)
    return await reply.type(ctx.metrics.contentType).send(text)
  })
}
