/**
 * `POST /v1/changesets`: several keys written all or none, at one log
 * sequence (`node.commit`). Answers 201 with the `CommitResult` once the local
 * replica applied the changeset; a refused one answers the status of its code
 * (412, 404, 422…) with `failures` naming every key that failed, and nothing
 * is written.
 */
import type { FastifySchemaValidationError } from 'fastify'
import { checkChangesetBody } from '../../write/check-changes.js'
import { ChangesetError, CredregError, isCredregError } from '../../errors.js'
import { MAX_CHANGES, type Change } from '../../shapes/changeset.js'
import type { HttpApp, HttpContext } from '../context.js'
import { requireJsonBody } from '../media-type.js'
import { writeResultLabel } from '../metrics.js'
import { ChangesetBodySchema, CommitResultSchema, ErrorSchema } from '../schemas.js'

/**
 * What each change may take in a body beyond its value: its key (256 bytes at
 * most), op and conditions, and the indentation of a pretty-printed document.
 * The values themselves share the room of one write (a changeset is one record
 * of the log, about `maxValueBytes` of values); the node refuses more with
 * `VALUE_TOO_LARGE`.
 */
export const CHANGE_ENVELOPE_BYTES = 1024

/** Registers the changeset route; its body may take an envelope per change beyond `bodyLimit`, the server's limit. */
export function changesetRoutes (app: HttpApp, ctx: HttpContext, bodyLimit: number): void {
  app.post('/v1/changesets', {
    bodyLimit: bodyLimit + MAX_CHANGES * CHANGE_ENVELOPE_BYTES,
    schema: { body: ChangesetBodySchema, response: { 201: CommitResultSchema, '4xx': ErrorSchema, '5xx': ErrorSchema } },
    // A failed check is explained below, naming the change at fault, rather than as the schema's list of every branch.
    attachValidation: true,
    preValidation: requireJsonBody
  }, async (request, reply) => {
    if (request.validationError !== undefined) throw malformed(request.body, request.validationError)
    const started = performance.now()
    const seconds = (): number => (performance.now() - started) / 1000
    const keys = request.body.changes.length
    try {
      // The wire's RFC 6902 operations are loose: the node checks each one as it applies it (PATCH_FAILED).
      const result = await ctx.node.commit(request.body.changes as Change[], { correlationId: request.id })
      ctx.metrics.write('changeset', 'ok', seconds())
      request.log.info({ op: 'changeset', id: result.id, seq: result.seq, keys }, 'changeset applied')
      reply.code(201)
      return result
    } catch (err) {
      const label = writeResultLabel(err)
      ctx.metrics.write('changeset', label, seconds())
      const failed = err instanceof ChangesetError ? err.failures.map(f => ({ key: f.key, code: f.code })) : undefined
      request.log.info({ op: 'changeset', keys, result: label, code: isCredregError(err) ? err.code : 'INTERNAL', failed }, 'changeset refused')
      throw err
    }
  })
}

/**
 * The error of a body that fails the schema: what the node's own check says
 * of it (naming the change), else the deepest place the schema failed at.
 */
function malformed (body: unknown, err: Error & { validation?: FastifySchemaValidationError[] }): CredregError {
  checkChangesetBody(body, 'the body')
  const deepest = [...err.validation ?? []].sort((a, b) => depth(b) - depth(a))[0]
  const where = deepest === undefined ? err.message : `${deepest.instancePath === '' ? 'the body' : deepest.instancePath.slice(1)} ${deepest.message ?? 'is invalid'}`
  return new CredregError('BAD_REQUEST', `the body is not { "changes": [ … ] } as it should be: ${where}`, { cause: err })
}

function depth (e: FastifySchemaValidationError): number {
  return e.instancePath.split('/').length
}
