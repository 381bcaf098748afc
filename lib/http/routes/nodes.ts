/**
 * `GET /v1/nodes?key=K`: every daemon of the namespace's membership stream,
 * with its progress; with `key`, the version of K each one holds, told from
 * its applied sequence (lib/peers/key-versions.ts).
 */
import { assertKey } from '../../key.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, NodesQuerySchema, NodesSchema } from '../schemas.js'

/** Registers the nodes route. */
export function nodesRoutes (app: HttpApp, ctx: HttpContext): void {
  app.get('/v1/nodes', {
    schema: { querystring: NodesQuerySchema, response: { 200: NodesSchema, '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request) => {
    const { key } = request.query
    if (key !== undefined) assertKey(key)
    return await ctx.peers.nodes(key)
  })
}
