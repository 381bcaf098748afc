/**
 * Who is calling, per listener, as a {@link CallerScope} on every request:
 *
 * - the admin socket: full rights (its mode, 0600, lets only the daemon's
 *   user connect);
 * - the apps' socket: full rights while the daemon has no token (its mode
 *   decides who connects); once it has one, `Authorization: Bearer <token>`
 *   with a scoped token, else 401 `UNAUTHORIZED`;
 * - the TCP listener: its own `--token-file` token (full rights) or a scoped
 *   token, else 401.
 *
 * Tokens are compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { CredregError } from '../errors.js'
import type { TokenScope } from '../shapes/token.js'
import { CallerScope } from './caller-scope.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What the caller may do, set before anything else looks at the request. */
    callerScope: CallerScope
  }
}

/** The scoped tokens of the daemon, as the listeners look them up. */
export interface TokenLookup {
  /** How many there are. */
  readonly size: number
  /** The scope of `token`, or undefined when it is none of them (compared in constant time). */
  find: (token: string) => TokenScope | undefined
}

/** How a listener authenticates its callers. */
export type CallerAuth =
  | { listener: 'admin' }
  | { listener: 'apps', tokens: TokenLookup }
  | { listener: 'tcp', token: string, tokens: TokenLookup }

/** Sets `request.callerScope` on every request, or refuses it with 401 `UNAUTHORIZED`. */
export function authenticateCallers (app: FastifyInstance, auth: CallerAuth): void {
  app.decorateRequest('callerScope', null as unknown as CallerScope)
  if (auth.listener === 'tcp' && auth.token === '') throw new TypeError('the bearer token must not be empty')
  const listenerToken = auth.listener === 'tcp' ? digest(auth.token) : undefined
  app.addHook('onRequest', async (request) => {
    if (auth.listener === 'admin' || (auth.listener === 'apps' && auth.tokens.size === 0)) {
      request.callerScope = CallerScope.full()
      return
    }
    const presented = bearer(request, auth.listener === 'tcp' ? 'this listener requires' : 'the daemon has tokens: this socket requires')
    if (listenerToken !== undefined && timingSafeEqual(digest(presented), listenerToken)) {
      request.callerScope = CallerScope.full()
      return
    }
    const scope = auth.tokens.find(presented)
    if (scope === undefined) throw new CredregError('UNAUTHORIZED', 'the bearer token is not valid')
    request.callerScope = CallerScope.of(scope)
  })
}

function bearer (request: FastifyRequest, needs: string): string {
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')
  if (match?.[1] === undefined) throw new CredregError('UNAUTHORIZED', `${needs} Authorization: Bearer <token>`)
  return match[1]
}

/** Comparing fixed-length digests keeps the comparison constant-time whatever the lengths. */
function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
