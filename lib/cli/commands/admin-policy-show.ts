/**
 * `credreg admin policy show`: the policy in force: its version, the admin
 * key, every host's grant and every read scope with its key ids.
 */
import type { CommandContext } from '../context.js'
import { currentPolicy } from '../policy-edit.js'
import { prefixes } from './whoami.js'

export async function run (ctx: CommandContext): Promise<void> {
  const current = await currentPolicy(await ctx.adminClient())
  if (current === undefined) {
    ctx.out.result(null, () => ctx.out.line('open mode: no policy (every holder of the data key may write anything); start one with credreg admin init'))
    return
  }
  const { version, policy } = current
  ctx.out.result(current, () => {
    ctx.out.fields([['version', version], ['admin key', policy.admin]])
    ctx.out.line('')
    ctx.out.table(['HOST', 'KEY', 'WRITE', 'READ', 'ROTATIONS'], policy.hosts.map(h => [h.name, h.key, prefixes(h.write), prefixes(h.read), h.rotations ? 'yes' : 'no']))
    ctx.out.line('')
    ctx.out.table(['SCOPE', 'CURRENT KEY ID', 'OLDER KEY IDS', 'RETIRED'], policy.scopes.map(s => [s.prefix === '' ? '*' : s.prefix, s.kids[0] ?? '-', s.kids.slice(1).join(' ') || '-', (s.retired ?? []).join(' ') || '-']))
  })
}
