/**
 * `credreg admin retire-key KID --admin-key FILE`: closes the older key KID
 * of every read scope that keeps it: no value may be sealed under it any more, and what
 * still is shows as `unreadable` ("retired") on hosts that dropped its key
 * file. The current key of a scope cannot be retired: rotate first.
 */
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'
import { changePolicy, loadAdminKey } from '../policy-edit.js'

export interface AdminRetireKeyInput {
  kid: string
  adminKey: string
}

export async function run (ctx: CommandContext, { kid, adminKey }: AdminRetireKeyInput): Promise<void> {
  const admin = await loadAdminKey(adminKey)
  let scopes: string[] = []
  const { version } = await changePolicy(await ctx.adminClient(), admin, policy => {
    const held = policy.scopes.filter(s => s.kids.includes(kid))
    if (held.length === 0) {
      const retired = policy.scopes.find(s => s.retired?.includes(kid) === true)
      if (retired !== undefined) throw new CredregError('BAD_REQUEST', `key id ${kid} is retired already (scope ${label(retired.prefix)})`)
      throw new CredregError('NOT_FOUND', `no read scope of the policy uses key id ${kid} (credreg admin policy show lists them)`)
    }
    const current = held.find(s => s.kids[0] === kid)
    if (current !== undefined) throw new CredregError('BAD_REQUEST', `key id ${kid} is the current key of the scope ${label(current.prefix)}: rotate to a new one first (credreg admin rotate-key)`)
    scopes = held.map(s => s.prefix)
    return { ...policy, scopes: policy.scopes.map(s => held.includes(s) ? { ...s, kids: s.kids.filter(k => k !== kid), retired: [...(s.retired ?? []), kid] } : s) }
  })
  ctx.out.result({ version, scopes, retired: kid }, () => ctx.out.line(`policy version ${version}: key id ${kid} of the scope ${scopes.map(label).join(', ')} is retired; hosts may drop its key file`))
}

function label (prefix: string): string {
  return prefix === '' ? '*' : prefix
}
