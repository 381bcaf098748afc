/**
 * `credreg admin revoke HOST --admin-key FILE`: removes HOST from the policy.
 * Every replica refuses its records from the new version's place in the log
 * on; what it wrote before stays.
 */
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'
import { changePolicy, loadAdminKey } from '../policy-edit.js'

export interface AdminRevokeInput {
  host: string
  adminKey: string
}

export async function run (ctx: CommandContext, { host, adminKey }: AdminRevokeInput): Promise<void> {
  const admin = await loadAdminKey(adminKey)
  let key = ''
  const { version } = await changePolicy(await ctx.adminClient(), admin, policy => {
    const held = policy.hosts.find(h => h.name === host)
    if (held === undefined) throw new CredregError('NOT_FOUND', `${host} is not in the policy (credreg admin policy show lists the hosts)`)
    key = held.key
    return { ...policy, hosts: policy.hosts.filter(h => h !== held) }
  })
  ctx.out.result({ version, revoked: host, key }, () => ctx.out.line(`policy version ${version}: revoked ${host} (${key}); its records are refused from this version on`))
}
