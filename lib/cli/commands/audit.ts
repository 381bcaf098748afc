/**
 * `credreg audit [PREFIX] [--since TIME] [--limit N]`: the daemon's audit
 * trail, oldest first, every page: who wrote, staged, acked, released or
 * aborted what, under which verified key, and whether it was applied.
 */
import type { AuditEntry } from '../../client/types.js'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'
import { shortKey } from '../format.js'

export interface AuditInput {
  prefix: string
  since?: string
  limit?: number
}

const PAGE = 1000
// Keys of one entry shown in the table; a changeset may write 64.
const KEYS_SHOWN = 3

export async function run (ctx: CommandContext, { prefix, since, limit }: AuditInput): Promise<void> {
  if (limit === 0) throw new CredregError('BAD_REQUEST', '--limit must be at least 1')
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new CredregError('BAD_REQUEST', `--since takes an ISO-8601 time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(since)}`)
  const client = await ctx.client()
  const most = limit ?? Infinity
  const entries: AuditEntry[] = []
  let after: number | undefined
  do {
    const page = await client.audit({ prefix, limit: Math.min(PAGE, most - entries.length), ...(since !== undefined ? { since } : {}), ...(after !== undefined ? { after } : {}) })
    entries.push(...page.entries)
    after = page.next
  } while (after !== undefined && entries.length < most)
  ctx.out.result(entries, () => ctx.out.table(['SEQ', 'AT', 'OP', 'KEYS', 'WHO', 'OUTCOME', 'CORRELATION'],
    entries.map(e => [e.seq, e.at, e.rotation === undefined ? e.op : `${e.op} ${e.rotation}`, keys(e.keys), who(e), e.outcome, e.correlationId])))
}

/** The writer the record names, and the key that verified it (none in open mode). */
function who (e: AuditEntry): string {
  return `${e.nodeId} (${e.signer === undefined ? 'unverified' : shortKey(e.signer)})`
}

function keys (list: string[]): string {
  if (list.length <= KEYS_SHOWN) return list.join(' ') || '-'
  return `${list.slice(0, KEYS_SHOWN).join(' ')} +${list.length - KEYS_SHOWN} more`
}
