/**
 * `GET /metrics`: Prometheus text exposition.
 */
import { watchLoad } from '../../node.js'
import type { HttpApp, HttpContext } from '../context.js'

/** Registers the metrics route. */
export function metricsRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.render(await ctx.node.nodeStatus(), watchLoad(ctx.node))
    return await reply.type(ctx.metrics.contentType).send(text)
  })
}
