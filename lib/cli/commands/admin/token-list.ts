/** `credreg admin token list`: every token's name, scope and creation time; never a token or its hash. */
import type { TokenInfo } from '../../../shapes/token.js'
import type { CommandContext } from '../../context.js'
import type { Cell } from '../../output.js'

export async function run (ctx: CommandContext): Promise<void> {
  const tokens = await (await ctx.adminClient()).tokens()
  ctx.out.result(tokens, () => {
    if (tokens.length === 0) {
      ctx.out.note('no tokens: the apps\' socket asks for none (its file mode decides who may call)')
      return
    }
    ctx.out.table(['NAME', 'READ', 'WRITE', 'ROTATIONS', 'CREATED'], tokens.map(t => [t.name, list(t.read), list(t.write), t.rotations ? 'yes' : 'no', t.createdAt]))
  })
}

/** A token's name and scope, as `credreg admin token create` and `revoke` print them. */
export function scopeFields (token: TokenInfo): Array<[string, Cell]> {
  return [['token', token.name], ['read', list(token.read)], ['write', list(token.write)], ['rotations', token.rotations ? 'yes' : 'no'], ['created', token.createdAt]]
}

function list (prefixes: string[]): string {
  return prefixes.length === 0 ? '-' : prefixes.join(',')
}
