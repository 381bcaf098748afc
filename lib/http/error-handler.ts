/**
 * Every error the HTTP API answers is JSON `{ code, message, ... }` with the
 * status of its code in the catalogue: this maps fastify's own errors (body
 * limits, content types, schema validation, bad URLs) onto catalogue codes.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CredregError, type ErrorCode } from '../errors.js'

/** The media types `PATCH` takes, as announced in `Accept-Patch`. */
export const ACCEPT_PATCH = 'application/json-patch+json, application/merge-patch+json'

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'VALUE_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NOT_FOUND'
}

/** The catalogue error for anything a request may throw. */
export function toCredregError (err: unknown): CredregError {
  if (err instanceof CredregError) return err
  const e = err as Partial<FastifyError> & Error
  if (e.validation !== undefined) {
    const part = e.validationContext ?? 'request'
    return new CredregError(part === 'body' ? 'INVALID_VALUE' : 'BAD_REQUEST', e.message, { cause: err })
  }
  const code = e.code !== undefined ? FASTIFY_CODES[e.code] : undefined
  if (code !== undefined) return new CredregError(code, fastifyMessage(code, e), { cause: err })
  if (e instanceof SyntaxError || (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)) {
    return new CredregError('BAD_REQUEST', e.message, { cause: err })
  }
  return new CredregError('INTERNAL', e.message ?? String(err), { cause: err })
}

function fastifyMessage (code: ErrorCode, e: Error): string {
  switch (code) {
    case 'VALUE_TOO_LARGE': return 'the request body is over the size limit'
    case 'UNSUPPORTED_MEDIA_TYPE': return `${e.message}; send application/json`
    case 'BAD_REQUEST': return e.message.startsWith('Body is not valid JSON') ? `the body is not valid JSON: ${e.message}` : e.message
    default: return e.message
  }
}

/** Fastify's error handler: logs server faults, answers the catalogue's status and JSON body. */
export function handleError (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toCredregError(err)
  if (error.status >= 500) request.log.error({ err }, 'request failed')
  else request.log.debug({ code: error.code, msg: error.message }, 'request refused')
  if (error.code === 'UNSUPPORTED_MEDIA_TYPE' && request.method === 'PATCH') reply.header('accept-patch', ACCEPT_PATCH)
  if (error.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer')
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toJSON())
}

/** Answers any request fastify's router has no route for. */
export function handleNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return handleError(new CredregError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`), request, reply)
}
