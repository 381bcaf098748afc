/**
 * The policy routes of the admin socket: `GET /v1/admin/policy` (the policy
 * in force, 404 in open mode), `PUT /v1/admin/policy` (carry the next
 * version, built and signed by the admin off the fleet, to the log) and
 * `POST /v1/admin/reseal` (seal a read scope's live values again under its
 * current key, after a key rotation).
 */
import { CredregError } from '../../errors.js'
import { POLICY_KEY } from '../../identity/policy.js'
import { assertPrefix } from '../../key.js'
import { policyAccess, resealScope } from '../../node.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, PolicyInForceSchema, PutPolicyBodySchema, ResealBodySchema, ResealResultSchema, WriteBodySchema } from '../schemas.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }

/** Registers the policy and reseal routes. */
export function adminPolicyRoutes (app: HttpApp, ctx: HttpContext): void {
  const access = (): ReturnType<typeof policyAccess> => policyAccess(ctx.node)

  app.get('/v1/admin/policy', { schema: { response: { 200: PolicyInForceSchema, ...errors } } }, async () => {
    const current = access().current()
    if (current === undefined) throw new CredregError('NOT_FOUND', 'no policy is in force (open mode): start one with credreg admin init', { key: POLICY_KEY })
    return current
  })

  app.put('/v1/admin/policy', {
    schema: { body: PutPolicyBodySchema, response: { 200: WriteBodySchema, 201: WriteBodySchema, ...errors } }
  }, async (request, reply) => {
    const result = await access().put(request.body.record)
    request.log.info({ op: 'policy', version: result.version, seq: result.seq, signer: (request.body.record.sig as { pub?: unknown } | undefined)?.pub }, 'policy version applied')
    reply.code(result.created ? 201 : 200)
    return { key: result.key, version: result.version }
  })

  app.post('/v1/admin/reseal', { schema: { body: ResealBodySchema, response: { 200: ResealResultSchema, ...errors } } }, async (request) => {
    const { prefix } = request.body
    assertPrefix(prefix)
    const result = await resealScope(ctx.node, prefix, progress => request.log.info({ prefix, ...progress, failed: progress.failed.length }, 'reseal progress'))
    request.log.info({ prefix, resealed: result.resealed, current: result.current, failed: result.failed.length }, 'reseal done')
    return result
  })
}
