/**
 * Which grant of a scoped token each route needs, in one table: the hook
 * below looks a request's route up and checks the caller's scope
 * (lib/http/caller-scope.ts) before the handler runs. A route missing from
 * the table is refused to scoped tokens, so a new route is closed until it
 * is listed. Callers with full rights pass every check.
 *
 * A request that failed its schema is left to its handler, which refuses it
 * (400) before doing anything.
 */
import type { FastifyRequest } from 'fastify'
import { CredregError } from '../errors.js'
import { assertKey, assertPrefix, keyProblem } from '../key.js'
import type { CredregNode } from '../types.js'
import type { CallerScope } from './caller-scope.js'
import type { HttpApp } from './context.js'

type Rule = (scope: CallerScope, request: FastifyRequest, node: CredregNode) => void | Promise<void>

const anyone: Rule = () => {}
const readKey: Rule = (scope, request) => { scope.assertRead(keyParam(request)) }
const writeKey: Rule = (scope, request) => { scope.assertWrite(keyParam(request)) }
const readPrefix: Rule = (scope, request) => {
  const prefix = (request.query as { prefix?: string }).prefix ?? ''
  assertPrefix(prefix)
  scope.assertReadPrefix(prefix)
}
// A patch or merge reads the value it changes: the write grant suffices, as for PATCH.
const writeChanges: Rule = (scope, request) => {
  for (const key of changeKeys(request)) scope.assertWrite(key)
}
const decideRotation = (act: string): Rule => async (scope, request, node) => {
  scope.assertRotations(act)
  for (const key of await stagedKeys(request, node)) scope.assertWrite(key)
}

/** `METHOD url` (the route's pattern) → what a scoped token needs. */
export const ROUTE_ACCESS: Readonly<Record<string, Rule>> = {
  'GET /v1/entities/*': readKey,
  'PUT /v1/entities/*': writeKey,
  'PATCH /v1/entities/*': writeKey,
  'DELETE /v1/entities/*': writeKey,
  'GET /v1/entities': readPrefix,
  'GET /v1/history/*': readKey,
  'GET /v1/watch': readPrefix,
  'POST /v1/changesets': writeChanges,
  'POST /v1/rotations': (scope, request, node) => {
    scope.assertRotations('stage')
    return writeChanges(scope, request, node)
  },
  // Both answer only the rotations the caller may see (routes/rotations.ts, routes/rotation-events.ts).
  'GET /v1/rotations': anyone,
  'GET /v1/rotations/events': anyone,
  'GET /v1/rotations/:id': async (scope, request, node) => {
    const keys = await stagedKeys(request, node)
    if (!scope.canSeeRotation(keys)) for (const key of keys) scope.assertRead(key)
  },
  // An acknowledgement vouches for the staged values: only a caller that may read each of them gives one.
  'POST /v1/rotations/:id/acks': async (scope, request, node) => {
    for (const key of await stagedKeys(request, node)) scope.assertRead(key)
  },
  'POST /v1/rotations/:id/release': decideRotation('release'),
  'POST /v1/rotations/:id/abort': decideRotation('abort'),
  'GET /v1/status': anyone,
  'GET /v1/timings': anyone,
  // The trail of the keys under a prefix the token may read (entries name keys and writers).
  'GET /v1/audit': readPrefix,
  'GET /v1/nodes': (scope, request) => {
    const { key } = request.query as { key?: string }
    if (key === undefined) return
    assertKey(key)
    scope.assertRead(key)
  },
  'GET /metrics': anyone
}

/** Checks every request with a scoped token against {@link ROUTE_ACCESS}. */
export function enforceRouteAccess (app: HttpApp, node: CredregNode): void {
  app.addHook('preHandler', async (request) => {
    const scope = request.callerScope
    const url = request.routeOptions.url
    // No route: the not-found handler answers 404, as to anyone.
    if (scope.isFull || url === undefined || request.validationError !== undefined) return
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const rule = ROUTE_ACCESS[`${method} ${url}`]
    if (rule === undefined) throw new CredregError('FORBIDDEN', `token ${scope.token ?? ''}: ${method} ${url} is not open to scoped tokens`)
    await rule(scope, request, node)
  })
}

/** The key in the path, checked (400 `INVALID_KEY` before any scope is). */
function keyParam (request: FastifyRequest): string {
  const key = (request.params as { '*': string })['*']
  assertKey(key)
  return key
}

/** The valid keys of a changeset's or stage's changes; an invalid one is the node's to refuse (400). */
function changeKeys (request: FastifyRequest): string[] {
  const changes = (request.body as { changes?: Array<{ key?: unknown }> } | undefined)?.changes ?? []
  return changes.map(change => change.key).filter((key): key is string => typeof key === 'string' && keyProblem(key) === undefined)
}

/** The keys the rotation in the path stages (404 `NOT_FOUND` for a rotation never staged). */
async function stagedKeys (request: FastifyRequest, node: CredregNode): Promise<string[]> {
  const { id } = request.params as { id: string }
  return (await node.rotation(id)).changes.map(change => change.key)
}
