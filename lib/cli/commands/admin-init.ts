/**
 * `credreg admin init --admin-key FILE [--name NAME]`: the first version of
 * the policy. The admin key signs it and every later one; the target daemon's
 * host is granted everything (write and read every key, decide rotations);
 * the namespace key is the one read scope. From then on every replica
 * refuses records that no granted host signed.
 */
import { CredregError } from '../../errors.js'
import { POLICY_KEY } from '../../identity/policy.js'
import { currentPolicy, loadAdminKey, putPolicyVersion } from '../policy-edit.js'
import type { CommandContext } from '../context.js'

export interface AdminInitInput {
  adminKey: string
  name?: string
}

export async function run (ctx: CommandContext, { adminKey, name }: AdminInitInput): Promise<void> {
  const admin = await loadAdminKey(adminKey)
  const client = await ctx.adminClient()
  const status = await client.status()
  const existing = await currentPolicy(client)
  if (existing !== undefined) {
    throw new CredregError('VERSION_CONFLICT', `a policy is in force already (version ${existing.version}); change it with credreg admin grant, revoke or rotate-key`, { key: POLICY_KEY })
  }
  const namespaceKid = status.identity.keyIds[0]
  if (namespaceKid === undefined) throw new CredregError('INTERNAL', 'the daemon reports no data key id')
  const host = { name: name ?? status.nodeId, key: status.identity.publicKey, write: [''], read: [''], rotations: true }
  const policy = { admin: admin.publicKey, hosts: [host], scopes: [{ prefix: '', kids: [namespaceKid] }] }
  await putPolicyVersion(client, status.namespace, 1, policy, admin)
  ctx.out.result({ version: 1, policy }, () => {
    ctx.out.line(`policy version 1 is in force in namespace ${status.namespace}`)
    ctx.out.line(`admin key  ${admin.publicKey}`)
    ctx.out.line(`granted    ${host.name} (${host.key}): write *, read *, rotations`)
    ctx.out.line(`scope *    key id ${namespaceKid}`)
    ctx.out.line('records not signed by a granted host are refused from now on: grant every other host with credreg admin grant')
  })
}
