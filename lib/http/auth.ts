/**
 * Bearer-token authentication of the TCP listener. The unix socket needs
 * none: its file mode decides who may connect.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { CredregError } from '../errors.js'

/** Refuses (401 `UNAUTHORIZED`) every request without `Authorization: Bearer <token>`. */
export function requireBearerToken (app: FastifyInstance, token: string): void {
  if (token === '') throw new TypeError('the bearer token must not be empty')
  const expected = digest(token)
  app.addHook('onRequest', async (request) => {
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')
    if (match?.[1] === undefined) throw new CredregError('UNAUTHORIZED', 'this listener requires Authorization: Bearer <token>')
    if (!timingSafeEqual(digest(match[1]), expected)) throw new CredregError('UNAUTHORIZED', 'the bearer token is not valid')
  })
}

/** Comparing fixed-length digests keeps the comparison constant-time whatever the lengths. */
function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
