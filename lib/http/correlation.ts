/**
 * Correlation ids: `X-Correlation-Id` (a uuid) is taken from the request or
 * generated (uuid v7), becomes fastify's request id — so every log line of
 * the request carries it as `correlationId` — goes into the written record,
 * and is echoed in the response.
 */
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { validate, v7 } from 'uuid'
import { CredregError } from '../errors.js'

/** The request and response header. */
export const CORRELATION_HEADER = 'x-correlation-id'

/** Fastify's `genReqId`: the caller's uuid when it sent a valid one, else a new uuid v7. */
export function correlationId (req: IncomingMessage): string {
  const given = req.headers[CORRELATION_HEADER]
  return typeof given === 'string' && validate(given) ? given.toLowerCase() : v7()
}

/** Refuses a malformed `X-Correlation-Id` (400 `BAD_REQUEST`) and echoes the id on every response. */
export function useCorrelationIds (app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id)
    const given = request.headers[CORRELATION_HEADER]
    if (given !== undefined && (typeof given !== 'string' || !validate(given))) {
      throw new CredregError('BAD_REQUEST', `${CORRELATION_HEADER} must be a uuid, got ${JSON.stringify(given)}`)
    }
  })
}
