/** `credreg admin token revoke NAME`: the daemon refuses the token from its answer on. */
import type { CommandContext } from '../../context.js'
import { scopeFields } from './token-list.js'

export interface TokenRevokeInput {
  name: string
}

export async function run (ctx: CommandContext, { name }: TokenRevokeInput): Promise<void> {
  const revoked = await (await ctx.adminClient()).revokeToken(name)
  ctx.out.result(revoked, () => {
    ctx.out.line(`revoked token ${revoked.name}`)
    ctx.out.fields(scopeFields(revoked))
  })
}
