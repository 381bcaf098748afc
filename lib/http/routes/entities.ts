/**
 * `/v1/entities`: read, write (PUT, PATCH, DELETE) and list entities.
 * Writes answer `{ key, version }` with the new `ETag`, once the local replica
 * applied them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CredregError, isCredregError } from '../../errors.js'
import { assertKey } from '../../key.js'
import type { WriteBody } from '../../shapes/write-result.js'
import type { WriteResult } from '../../types.js'
import { etag, ifMatchOptions, parseIfMatch, parseIfNoneMatch, type IfMatch } from '../conditional.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ACCEPT_PATCH } from '../error-handler.js'
import { mediaType, requireJsonBody } from '../media-type.js'
import { writeResultLabel } from '../metrics.js'
import {
  EntitySchema, ErrorSchema, GetQuerySchema, JsonObjectSchema, KeyParamsSchema, ListPageSchema, ListQuerySchema, WriteBodySchema
} from '../schemas.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }
const writeResponse = { 200: WriteBodySchema, 201: WriteBodySchema, ...errors }

/** Registers the entity routes. */
export function entityRoutes (app: HttpApp, ctx: HttpContext): void {
  const { node } = ctx

  app.get('/v1/entities/*', {
    schema: { params: KeyParamsSchema, querystring: GetQuerySchema, response: { 200: EntitySchema, ...errors } },
    preValidation: checkKey
  }, async (request, reply) => {
    const { version, stage } = request.query
    const entity = await node.get(request.params['*'], { ...(version !== undefined ? { version } : {}), ...(stage !== undefined ? { stage } : {}) })
    // A staged value is not a version a write could be conditional on.
    if (stage === undefined) reply.header('etag', etag(entity.version))
    return entity
  })

  app.put('/v1/entities/*', {
    schema: { params: KeyParamsSchema, body: JsonObjectSchema, response: writeResponse },
    preValidation: [checkKey, requireJsonBody]
  }, async (request, reply) => {
    const key = request.params['*']
    const ifAbsent = parseIfNoneMatch(header(request, 'if-none-match'))
    const ifMatch = parseIfMatch(header(request, 'if-match'))
    if (ifMatch !== undefined && ifAbsent) throw new CredregError('BAD_REQUEST', 'If-Match and If-None-Match exclude each other')
    const result = await write(ctx, request, 'put', key, async () => {
      const conditions = await ifMatchOptions(node, key, ifMatch)
      return await node.put(key, request.body, { ...conditions, ifAbsent, correlationId: request.id })
    })
    return answerWrite(reply, result)
  })

  app.patch('/v1/entities/*', {
    schema: { params: KeyParamsSchema, response: writeResponse },
    preValidation: checkKey
  }, async (request, reply) => {
    const key = request.params['*']
    const ifMatch = conditionOnly(request)
    const type = mediaType(request)
    const body = request.body as never
    if (type !== 'application/json-patch+json' && type !== 'application/merge-patch+json') {
      reply.header('accept-patch', ACCEPT_PATCH)
      throw new CredregError('UNSUPPORTED_MEDIA_TYPE', `PATCH takes ${ACCEPT_PATCH}, not ${type === '' ? 'a body without a content type' : type}`)
    }
    const result = await write(ctx, request, 'patch', key, async () => {
      const options = { ...await ifMatchOptions(node, key, ifMatch), correlationId: request.id }
      return type === 'application/json-patch+json' ? await node.patch(key, body, options) : await node.merge(key, body, options)
    })
    return answerWrite(reply, result)
  })

  app.delete('/v1/entities/*', {
    schema: { params: KeyParamsSchema, response: { 200: WriteBodySchema, ...errors } },
    preValidation: checkKey
  }, async (request, reply) => {
    const key = request.params['*']
    const ifMatch = conditionOnly(request)
    const result = await write(ctx, request, 'delete', key, async () => await node.delete(key, { ...await ifMatchOptions(node, key, ifMatch), correlationId: request.id }))
    reply.header('etag', etag(result.version))
    return { key: result.key, version: result.version }
  })

  app.get('/v1/entities', {
    schema: { querystring: ListQuerySchema, response: { 200: ListPageSchema, ...errors } }
  }, async (request) => {
    const { prefix, limit, after } = request.query
    return await node.list(prefix ?? '', { ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) })
  })
}

/** Runs a write, counts it in the metrics and logs its outcome (with the request's correlation id). */
async function write (ctx: HttpContext, request: FastifyRequest, op: 'put' | 'patch' | 'delete', key: string, run: () => Promise<WriteResult>): Promise<WriteResult> {
  const started = performance.now()
  const seconds = (): number => (performance.now() - started) / 1000
  try {
    const result = await run()
    ctx.metrics.write(op, 'ok', seconds())
    request.log.info({ op, key, version: result.version, seq: result.seq, created: result.created }, 'write applied')
    return result
  } catch (err) {
    const label = writeResultLabel(err)
    ctx.metrics.write(op, label, seconds())
    request.log.info({ op, key, result: label, code: isCredregError(err) ? err.code : 'INTERNAL' }, 'write refused')
    throw err
  }
}

function answerWrite (reply: FastifyReply, result: WriteResult): WriteBody {
  reply.code(result.created ? 201 : 200).header('etag', etag(result.version))
  return { key: result.key, version: result.version }
}

/** PATCH and DELETE take `If-Match` only. */
function conditionOnly (request: FastifyRequest): IfMatch | undefined {
  if (request.headers['if-none-match'] !== undefined) throw new CredregError('BAD_REQUEST', `${request.method} takes If-Match only, not If-None-Match`)
  return parseIfMatch(header(request, 'if-match'))
}

/** Refuses an invalid key (400 `INVALID_KEY`) before the body is looked at. */
async function checkKey (request: FastifyRequest): Promise<void> {
  assertKey((request.params as { '*': string })['*'])
}

function header (request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  if (Array.isArray(value)) throw new CredregError('BAD_REQUEST', `send ${name} once`)
  return value
}
