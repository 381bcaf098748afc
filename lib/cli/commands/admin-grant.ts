/**
 * `credreg admin grant HOST --key PUB [--write P,…] [--read P,…]
 * [--rotations] --admin-key FILE`: adds HOST to the policy, or replaces its
 * grant (its key kept unless `--key` names another): it may then write and
 * read exactly the prefixes given (none when omitted) and decide rotations
 * only with `--rotations`.
 */
import { CredregError } from '../../errors.js'
import type { HostGrant } from '../../identity/policy.js'
import type { CommandContext } from '../context.js'
import { changePolicy, loadAdminKey } from '../policy-edit.js'
import { grantText } from './whoami.js'

export interface AdminGrantInput {
  host: string
  key?: string
  write?: string[]
  read?: string[]
  rotations?: boolean
  adminKey: string
}

export async function run (ctx: CommandContext, input: AdminGrantInput): Promise<void> {
  const admin = await loadAdminKey(input.adminKey)
  let granted: HostGrant | undefined
  let replaced = false
  const { version } = await changePolicy(await ctx.adminClient(), admin, policy => {
    const held = policy.hosts.find(h => h.name === input.host)
    const key = input.key ?? held?.key
    if (key === undefined) throw new CredregError('BAD_REQUEST', `${input.host} is not in the policy yet: give its public key with --key (credreg whoami on that host prints it)`)
    const other = policy.hosts.find(h => h.key === key && h.name !== input.host)
    if (other !== undefined) throw new CredregError('BAD_REQUEST', `the key ${key} is granted to ${other.name} already: one key, one host`)
    granted = { name: input.host, key, write: input.write ?? [], read: input.read ?? [], rotations: input.rotations === true }
    replaced = held !== undefined
    return { ...policy, hosts: held === undefined ? [...policy.hosts, granted] : policy.hosts.map(h => h === held ? granted as HostGrant : h) }
  })
  const grant = granted as HostGrant
  ctx.out.result({ version, grant }, () => ctx.out.line(`policy version ${version}: ${replaced ? 'replaced the grant of' : 'granted'} ${grant.name} (${grant.key}) ${grantText(grant).replace(/^as [^:]+: /, '')}`))
}
