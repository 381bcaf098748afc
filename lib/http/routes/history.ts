/**
 * `GET /v1/history/{key}`: the retained versions of a key, oldest first,
 * each with the RFC 6902 patch from the version before it.
 */
import { assertKey } from '../../key.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, HistoryBodySchema, KeyParamsSchema } from '../schemas.js'

/** Registers the history route. */
export function historyRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/v1/history/*', {
    schema: { params: KeyParamsSchema, response: { 200: HistoryBodySchema, '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request) => {
    const key = request.params['*']
    assertKey(key)
    const entries = await ctx.node.history(key)
    return {
      key,
      versions: entries.map(({ version, seq, op, meta, unreadable, patch, changeset }) => ({ version, seq, op, meta, ...(unreadable !== undefined ? { unreadable } : {}), patch, ...(changeset !== undefined ? { changeset } : {}) }))
    }
  })
}
