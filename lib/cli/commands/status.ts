/** `credreg status`: the daemon's node, mode, namespace, applied sequence, lag, NATS connection, entity count, public key and policy version. */
import type { DaemonStatus } from '../../client/types.js'
import type { CommandContext } from '../context.js'
import { duration } from '../format.js'

export async function run (ctx: CommandContext): Promise<void> {
  const s = await (await ctx.client()).status()
  ctx.out.result(s, () => ctx.out.fields([
    ['node', s.nodeId],
    ['host', s.hostname],
    ['mode', s.mode],
    ['namespace', s.namespace],
    ['applied seq', s.appliedSeq],
    ['log seq', s.logSeq],
    ['lag', s.lag],
    ['nats', nats(s)],
    ['entities', s.entities],
    ['public key', s.identity.publicKey],
    ['policy', s.identity.policyVersion === undefined ? 'none (open mode)' : `version ${s.identity.policyVersion}`],
    ...Object.keys(s.rejected).length > 0 ? [['rejected', Object.entries(s.rejected).map(([why, n]) => `${why}=${n}`).join(' ')] as [string, string]] : [],
    ...s.diverged !== undefined ? [['diverged', `${s.diverged.reason} (since ${s.diverged.since}); writes are refused`] as [string, string]] : [],
    ['version', s.version],
    ['uptime', duration(s.uptimeS)]
  ]))
}

function nats (s: DaemonStatus): string {
  if (s.mode === 'standalone') return 'none (standalone)'
  return s.nats.connected ? `connected${s.nats.server !== undefined ? ` to ${s.nats.server}` : ''}` : 'disconnected'
}
