/**
 * The media type of a request body, and the check of the routes whose body
 * is JSON only (a PUT's value, a changeset).
 */
import type { FastifyRequest } from 'fastify'
import { CredregError } from '../errors.js'

/** The request's `Content-Type` without parameters, lower case ('' when absent). */
export function mediaType (request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Refuses (415 `UNSUPPORTED_MEDIA_TYPE`) a body that is not `application/json`. */
export async function requireJsonBody (request: FastifyRequest): Promise<void> {
  const type = mediaType(request)
  if (type !== 'application/json') throw new CredregError('UNSUPPORTED_MEDIA_TYPE', `${request.method} takes application/json, not ${type === '' ? 'a body without a content type' : type}`)
}
