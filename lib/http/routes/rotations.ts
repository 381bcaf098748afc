/**
 * `/v1/rotations`: stage changes as a rotation, list the open ones, read one,
 * acknowledge, release or abort it. Every answer is the rotation as it stands
 * once the local replica applied the decision, with each host's `holds` as
 * this daemon heard it. A stage without `hosts` waits for every host heard
 * from and alive. A refused decision is 409 `ROTATION_REFUSED` with the reason.
 * What a scoped token may do here is in lib/http/route-access.ts.
 */
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { checkChanges } from '../../write/check-changes.js'
import { CredregError, isCredregError } from '../../errors.js'
import { MAX_CHANGES } from '../../shapes/changeset.js'
import type { Rotation } from '../../shapes/rotation.js'
import type { Change } from '../../types.js'
import type { HttpApp, HttpContext } from '../context.js'
import { defaultHosts, withHeardHolds } from '../rotation-hosts.js'
import { CHANGE_ENVELOPE_BYTES } from './changesets.js'
import {
  AbortBodySchema, AckBodySchema, ErrorSchema, ReleaseBodySchema, RotationListSchema, RotationParamsSchema, RotationSchema, StageBodySchema
} from '../schemas.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }
const one = { 200: RotationSchema, ...errors }
// A failed check is explained by the handler (see `valid`), as a request's mistake, not a value's.
const explained = { attachValidation: true }

/**
 * Registers the rotation routes (the event stream is routes/rotation-events.ts);
 * a stage's body may take an envelope per change beyond `bodyLimit`, as a changeset's.
 */
export function rotationRoutes (app: HttpApp, ctx: HttpContext, bodyLimit: number): void {
  const { node } = ctx
  const heard = async (rotation: Rotation): Promise<Rotation> => (await withHeardHolds(ctx.peers, [rotation]))[0] as Rotation

  app.post('/v1/rotations', {
    bodyLimit: bodyLimit + MAX_CHANGES * CHANGE_ENVELOPE_BYTES,
    schema: { body: StageBodySchema, response: { 201: RotationSchema, ...errors } },
    ...explained
  }, async (request, reply) => {
    valid(request)
    const { changes, hosts, deadlineSeconds } = request.body
    // The wire's RFC 6902 operations are loose: the node checks each one as it applies it (PATCH_FAILED).
    const rotation = await decided(request, 'stage', async () => await node.stage(changes as Change[], {
      hosts: hosts ?? await defaultHosts(ctx.peers),
      ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
      correlationId: request.id
    }))
    reply.code(201)
    return await heard(rotation)
  })

  app.get('/v1/rotations', { schema: { response: { 200: RotationListSchema, ...errors } } }, async (request) => {
    // A scoped token without the rotations grant sees the rotations whose every staged key it may read.
    const scope = request.callerScope
    const visible = (await node.rotations()).filter(rotation => scope.canSeeRotation(rotation.changes.map(change => change.key)))
    return { rotations: await withHeardHolds(ctx.peers, visible) }
  })

  app.get('/v1/rotations/:id', { schema: { params: RotationParamsSchema, response: one }, ...explained }, async (request) => {
    valid(request)
    return await heard(await node.rotation(request.params.id))
  })

  app.post('/v1/rotations/:id/acks', { schema: { params: RotationParamsSchema, body: AckBodySchema, response: one }, ...explained }, async (request) => {
    valid(request)
    const { ok, message } = request.body
    return await heard(await decided(request, 'ack', async () => await node.ack(request.params.id, { ok, ...(message !== undefined ? { message } : {}), correlationId: request.id })))
  })

  app.post('/v1/rotations/:id/release', {
    schema: { params: RotationParamsSchema, body: ReleaseBodySchema, response: one },
    preValidation: noBodyIsEmpty,
    ...explained
  }, async (request) => {
    valid(request)
    const { force } = request.body
    return await heard(await decided(request, 'release', async () => await node.release(request.params.id, { ...(force !== undefined ? { force } : {}), correlationId: request.id })))
  })

  app.post('/v1/rotations/:id/abort', {
    schema: { params: RotationParamsSchema, body: AbortBodySchema, response: one },
    preValidation: noBodyIsEmpty,
    ...explained
  }, async (request) => {
    valid(request)
    const { reason } = request.body
    return await heard(await decided(request, 'abort', async () => await node.abort(request.params.id, { ...(reason !== undefined ? { reason } : {}), correlationId: request.id })))
  })
}

/** Runs a stage or decision and logs its outcome (with the request's correlation id). */
async function decided (request: FastifyRequest, op: 'stage' | 'ack' | 'release' | 'abort', run: () => Promise<Rotation>): Promise<Rotation> {
  try {
    const rotation = await run()
    request.log.info({ op, rotation: rotation.id, status: rotation.status, seq: rotation.closed?.seq ?? rotation.seq }, `rotation ${op} applied`)
    return rotation
  } catch (err) {
    request.log.info({ op, rotation: (request.params as { id?: string }).id, code: isCredregError(err) ? err.code : 'INTERNAL', msg: (err as Error).message }, `rotation ${op} refused`)
    throw err
  }
}

/** A release or abort takes its options as a JSON body, which may be left out. */
async function noBodyIsEmpty (request: FastifyRequest): Promise<void> {
  request.body ??= {}
}

/**
 * Throws what is wrong with a request that failed its schema: a rotation id
 * that is no uuid; a stage's changes as the node's own check says it, naming
 * the change at fault; else the deepest place the body failed at.
 */
function valid (request: FastifyRequest): void {
  const err = request.validationError as (Error & { validation?: FastifySchemaValidationError[], validationContext?: string }) | undefined
  if (err === undefined) return
  if (err.validationContext === 'params') {
    throw new CredregError('BAD_REQUEST', `a rotation id is a uuid, got ${JSON.stringify((request.params as { id?: unknown }).id)}`, { cause: err })
  }
  const changes = (request.body as { changes?: unknown } | null | undefined)?.changes
  if (request.routeOptions.url === '/v1/rotations' && Array.isArray(changes)) checkChanges(changes)
  const deepest = [...err.validation ?? []].sort((a, b) => depth(b) - depth(a))[0]
  const where = deepest === undefined ? err.message : `${deepest.instancePath === '' ? 'the body' : deepest.instancePath.slice(1)} ${said(deepest)}`
  throw new CredregError('BAD_REQUEST', `the body is not as ${request.method} ${request.routeOptions.url ?? ''} takes it: ${where}`, { cause: err })
}

// The schema's words for a field it does not take ("schema is false") say little to a caller.
function said (e: FastifySchemaValidationError): string {
  return e.schemaPath.endsWith('/additionalProperties') ? 'is not a field it takes' : e.message ?? 'is invalid'
}

function depth (e: FastifySchemaValidationError): number {
  return e.instancePath.split('/').length
}
