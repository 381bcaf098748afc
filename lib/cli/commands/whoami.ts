/**
 * `credreg whoami`: who the daemon's host is: node id, public key, the ids
 * of the data keys it holds, the policy version in force and what it grants
 * this host.
 */
import type { HostGrant } from '../../identity/policy.js'
import type { CommandContext } from '../context.js'

export async function run (ctx: CommandContext): Promise<void> {
  const { nodeId, namespace, identity } = await (await ctx.client()).status()
  ctx.out.result({ nodeId, namespace, ...identity }, () => ctx.out.fields([
    ['node', nodeId],
    ['namespace', namespace],
    ['public key', identity.publicKey],
    ['key ids', identity.keyIds.join(' ')],
    ['policy', identity.policyVersion === undefined ? 'open mode: no policy' : `version ${identity.policyVersion}`],
    ...identity.policyVersion === undefined ? [] : [['grant', grantText(identity.grant)] as [string, string]]
  ]))
}

/** A grant in one line: what the host may write and read, and whether it decides rotations. */
export function grantText (grant: HostGrant | undefined): string {
  if (grant === undefined) return 'none: the policy does not name this host\'s key'
  return `as ${grant.name}: write ${prefixes(grant.write)}; read ${prefixes(grant.read)}; rotations ${grant.rotations ? 'yes' : 'no'}`
}

/** Prefixes as a reader expects them: `*` for every key, `-` for none. */
export function prefixes (list: string[]): string {
  if (list.length === 0) return '-'
  return list.map(p => p === '' ? '*' : p).join(',')
}
