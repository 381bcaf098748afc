/**
 * `credreg admin rotate-key [--scope P] --kid KID [--reseal] --admin-key
 * FILE`: makes KID the current key of the read scope P ('' by default: the
 * namespace's): new values of P are sealed under it; the older key ids stay
 * after it, still opening what they sealed, until retired. The scope is
 * created when the policy has none for P. With `--reseal`, the daemon then
 * writes every live value of P still under an older key again under KID.
 */
import type { ResealResult } from '../../client/types.js'
import { CredregError } from '../../errors.js'
import { MAX_SCOPE_KEYS } from '../../identity/policy.js'
import type { CommandContext } from '../context.js'
import { changePolicy, loadAdminKey } from '../policy-edit.js'

// How often a long reseal reports on stderr that it is still under way.
const PROGRESS_EVERY_MS = 5000

export interface AdminRotateKeyInput {
  scope: string
  kid: string
  reseal?: boolean
  adminKey: string
}

export async function run (ctx: CommandContext, { scope, kid, reseal, adminKey }: AdminRotateKeyInput): Promise<void> {
  const admin = await loadAdminKey(adminKey)
  const client = await ctx.adminClient()
  const label = scope === '' ? '*' : scope
  let kids: string[] = []
  const { version } = await changePolicy(client, admin, policy => {
    const held = policy.scopes.find(s => s.prefix === scope)
    if (held?.retired?.includes(kid) === true) throw new CredregError('BAD_REQUEST', `key id ${kid} was retired from the scope ${label}: make a new key with credreg admin keygen --scope`)
    if (held?.kids[0] === kid) throw new CredregError('BAD_REQUEST', `key id ${kid} is the current key of the scope ${label} already`)
    kids = [kid, ...(held?.kids ?? []).filter(k => k !== kid)]
    if (kids.length > MAX_SCOPE_KEYS) throw new CredregError('BAD_REQUEST', `the scope ${label} would keep ${kids.length} key ids open, over ${MAX_SCOPE_KEYS}: retire older ones first (credreg admin retire-key)`)
    const next = { ...held, prefix: scope, kids }
    return { ...policy, scopes: held === undefined ? [...policy.scopes, next] : policy.scopes.map(s => s === held ? next : s) }
  })
  ctx.out.result({ version, scope, kids }, () => {
    ctx.out.line(`policy version ${version}: the scope ${label} seals new values under key id ${kid}${kids.length > 1 ? `; ${kids.slice(1).join(' ')} still open older ones` : ''}`)
  })
  if (reseal !== true) {
    ctx.out.note('values written before stay sealed under the older key: credreg admin rotate-key --reseal, or write them again, before credreg admin retire-key')
    return
  }
  ctx.out.note(`resealing the live values under ${label} (this takes as long as the scope is large; the daemon logs its progress)…`)
  const started = Date.now()
  // The daemon answers once done: until then, say every few seconds that it still works.
  const ticker = setInterval(() => ctx.out.note(`still resealing (${Math.round((Date.now() - started) / 1000)}s)…`), PROGRESS_EVERY_MS)
  let result: ResealResult
  try {
    result = await client.resealScope(scope)
  } finally {
    clearInterval(ticker)
  }
  ctx.out.result(result, () => {
    ctx.out.line(`resealed ${result.resealed} values under key id ${kid}; ${result.current} already current (${Math.round((Date.now() - started) / 100) / 10}s)`)
    for (const f of result.failed) ctx.out.line(`  failed ${f.key}: ${f.message} (${f.code})`)
  })
  if (result.failed.length > 0) {
    throw new CredregError('INTERNAL', `${result.failed.length} values could not be resealed; run credreg admin rotate-key --reseal again or write them anew before retiring the older key`)
  }
}
