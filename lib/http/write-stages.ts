/**
 * The HTTP layer's stages of a key's write: `parsed` (request received,
 * through routing, body parsing and validation, to the handler) and
 * `answered` (the handler's result, through serialization, to the response
 * sent). Counted for writes that succeeded, as the node's own stages are.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { StageTimings } from '../timings/stage-timings.js'
import type { HttpApp } from './context.js'

const ENTITY_ROUTE = '/v1/entities/*'
const WRITES = new Set(['PUT', 'PATCH', 'DELETE'])

// Milliseconds since the request was received at which the handler began, and answered.
interface Marks { handler: number, result: number }
const marks = new WeakMap<FastifyRequest, Marks>()

function isWrite (request: FastifyRequest): boolean {
  return WRITES.has(request.method) && request.routeOptions.url === ENTITY_ROUTE
}

/** Times the writes of `app` into `timings`. */
export function timeWrites (app: HttpApp, timings: StageTimings): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isWrite(request)) marks.set(request, { handler: reply.elapsedTime, result: -1 })
  })
  app.addHook('preSerialization', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const m = marks.get(request)
    if (m !== undefined) m.result = reply.elapsedTime
    return payload
  })
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const m = marks.get(request)
    if (m === undefined || m.result < 0 || reply.statusCode >= 300) return
    timings.write('parsed', m.handler / 1000)
    timings.write('answered', (reply.elapsedTime - m.result) / 1000)
  })
}
