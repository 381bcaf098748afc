/**
 * `GET /v1/audit?prefix=&since=&after=&limit=`: a page of this replica's
 * audit trail, oldest first (who wrote, staged, acked, released or aborted
 * what, by verified signer under a policy, and whether it was applied).
 */
import { auditTrail } from '../../node.js'
import type { HttpApp, HttpContext } from '../context.js'
import { AuditPageSchema, AuditQuerySchema, ErrorSchema } from '../schemas.js'

/** Registers the audit route. */
export function auditRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/v1/audit', {
    schema: { querystring: AuditQuerySchema, response: { 200: AuditPageSchema, '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request) => {
    const { prefix, since, after, limit } = request.query
    return await auditTrail(ctx.node, {
      ...(prefix !== undefined ? { prefix } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(limit !== undefined ? { limit } : {})
    })
  })
}
