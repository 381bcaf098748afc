/**
 * `/v1/admin/tokens` (admin socket only): mint a scoped token (`POST`, the
 * token told once in the answer), list the tokens' names and scopes (`GET`,
 * never a hash) and revoke one (`DELETE …/{name}`, refused from then on).
 */
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { CredregError } from '../../errors.js'
import { MAX_TOKEN_PREFIXES } from '../../shapes/token.js'
import type { HttpApp, HttpContext } from '../context.js'
import { requireJsonBody } from '../media-type.js'
import { CreatedTokenSchema, CreateTokenBodySchema, ErrorSchema, TokenInfoSchema, TokenListSchema, TokenParamsSchema } from '../schemas.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }

/** Registers the token routes. */
export function tokenRoutes (app: HttpApp, ctx: HttpContext): void {
  app.post('/v1/admin/tokens', {
    schema: { body: CreateTokenBodySchema, response: { 201: CreatedTokenSchema, ...errors } },
    attachValidation: true,
    preValidation: requireJsonBody
  }, async (request, reply) => {
    if (request.validationError !== undefined) throw malformed(request)
    const created = await ctx.tokens.create(request.body)
    request.log.info({ token: created.name, read: created.read, write: created.write, rotations: created.rotations }, 'token created')
    reply.code(201)
    return created
  })

  app.get('/v1/admin/tokens', { schema: { response: { 200: TokenListSchema, ...errors } } }, async () => {
    return { tokens: ctx.tokens.list() }
  })

  app.delete('/v1/admin/tokens/:name', { schema: { params: TokenParamsSchema, response: { 200: TokenInfoSchema, ...errors } } }, async (request) => {
    const revoked = await ctx.tokens.revoke(request.params.name)
    request.log.info({ token: revoked.name }, 'token revoked')
    return revoked
  })
}

/** What is wrong with a body that failed the schema, in the caller's words: the field, and what it takes. */
function malformed (request: FastifyRequest): CredregError {
  const err = request.validationError as Error & { validation?: FastifySchemaValidationError[] }
  const first = [...err.validation ?? []].sort((a, b) => b.instancePath.length - a.instancePath.length)[0]
  const where = first?.instancePath.slice(1) ?? ''
  const field = where.split('/')[0] ?? ''
  const takes: Record<string, string> = {
    name: 'a name of 1-64 characters of A-Z a-z 0-9 _ . -',
    read: `an array of at most ${MAX_TOKEN_PREFIXES} key prefixes, each 1-256 characters`,
    write: `an array of at most ${MAX_TOKEN_PREFIXES} key prefixes, each 1-256 characters`,
    rotations: 'true or false'
  }
  let what = 'the body must be an object {"name", "read"?, "write"?, "rotations"?}'
  if (first?.keyword === 'additionalProperties' || first?.schemaPath.endsWith('/additionalProperties') === true) what = 'the body takes name, read, write and rotations only'
  else if (takes[field] !== undefined) what = `${where} must be ${takes[field]}`
  return new CredregError('BAD_REQUEST', `the body is not a token request: ${what}`, { cause: err })
}
