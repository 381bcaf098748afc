/**
 * The admin routes. `POST /v1/admin/reseed`: restores the change log from
 * this daemon's replica after the log lost its store. Answers once the
 * replica has been contributed and the new log taken on; writes resume when
 * it has re-read it. The policy and reseal routes: routes/admin-policy.ts.
 */
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, ReseedResultSchema } from '../schemas.js'
import { adminPolicyRoutes } from './admin-policy.js'

/** Registers the admin routes. */
export function adminRoutes (app: HttpApp, ctx: HttpContext): void {
  app.post('/v1/admin/reseed', { schema: { response: { 200: ReseedResultSchema, '4xx': ErrorSchema, '5xx': ErrorSchema } } }, async () => {
    return await ctx.node.reseed()
  })
  adminPolicyRoutes(app, ctx)
}
