/**
 * `credreg status [--timings]`: the daemon's node, mode, namespace, applied
 * sequence, lag, NATS connection, entity count, public key and policy version; with `--timings`, a table
 * of where its time goes, per stage of a write and of a change's propagation.
 */
import type { DaemonStatus, StageSummary, Timings } from '../../client/types.js'
import type { CommandContext } from '../context.js'
import { duration } from '../format.js'

export interface StatusInput {
  timings?: boolean
}

export async function run (ctx: CommandContext, { timings: withTimings = false }: StatusInput): Promise<void> {
  const client = await ctx.client()
  const [s, timings] = await Promise.all([client.status(), withTimings ? client.timings() : undefined])
  ctx.out.result(timings === undefined ? s : { ...s, timings }, () => {
    ctx.out.fields([
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
    ])
    if (timings !== undefined) printTimings(ctx, timings)
  })
}

function nats (s: DaemonStatus): string {
  if (s.mode === 'standalone') return 'none (standalone)'
  return s.nats.connected ? `connected${s.nats.server !== undefined ? ` to ${s.nats.server}` : ''}` : 'disconnected'
}

// A blank line apart from the fields; percentiles over the latest `window` samples of each stage.
function printTimings (ctx: CommandContext, timings: Timings): void {
  const row = (path: string) => (s: StageSummary) => [path, s.stage, s.count, ms(s.p50Ms), ms(s.p99Ms)]
  ctx.out.line('')
  ctx.out.table(['PATH', 'STAGE', 'COUNT', 'P50 MS', 'P99 MS'], [...timings.write.map(row('write')), ...timings.propagation.map(row('propagation'))])
  ctx.out.line(`(percentiles over the latest ${timings.window} samples of each stage)`)
}

function ms (value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(3)
}
