/**
 * The audit trail a replica keeps: one entry per record it decided that was
 * authentic enough to name its writer (applied, or refused for what it did:
 * an unauthorized write, a stale version), in log order. An unauthenticated
 * record names no one it can be held to, and is only counted.
 *
 * The trail keeps the entries of the last {@link AUDIT_WINDOW} log
 * sequences, so it never grows without bound.
 */
import type { AnyRecord } from '../records/decode-entry.js'
import type { AuditEntry, AuditPage } from '../shapes/audit.js'
import type { StateInForce } from '../verdict.js'
import { seqKey, type Store } from './store.js'

/** Log sequences whose entries the trail keeps. */
export const AUDIT_WINDOW = 1_000_000
/** How often (in sequences applied) entries past the window are dropped. */
export const AUDIT_PRUNE_EVERY = 10_000
// Entries one page reads at most, matching or not, before it answers with a cursor.
const AUDIT_SCAN_LIMIT = 10_000

/** The trail's entry of `record`, decided at `seq` in `state` (before it applies). */
export function auditEntryOf (seq: number, record: AnyRecord, outcome: string, signer: string | undefined, state: StateInForce): AuditEntry {
  const common = { seq, nodeId: record.meta.nodeId, ...(signer !== undefined ? { signer } : {}), at: record.meta.updatedAt, correlationId: record.meta.correlationId, outcome }
  switch (record.op) {
    case 'changeset':
    case 'stage':
      return { ...common, op: record.op, keys: record.changes.map(c => c.key), ...(record.op === 'stage' ? { rotation: record.id } : {}) }
    case 'ack':
    case 'release':
    case 'abort':
      return { ...common, op: record.op, keys: state.rotation(record.rotation)?.changes.map(c => c.key) ?? [], rotation: record.rotation }
    default:
      return { ...common, op: 'policy' in record ? 'policy' : record.op, keys: [record.key] }
  }
}

/** What to read of the trail. */
export interface AuditQuery {
  /** Entries touching a key under it ('' for all). */
  prefix: string
  /** Entries written at or after this ISO-8601 time. */
  since?: string
  /** Entries after this sequence (a page's `next`). */
  after?: number
  limit: number
}

/** A page of the trail, oldest first. */
export async function readAudit (store: Store, { prefix, since, after, limit }: AuditQuery): Promise<AuditPage> {
  const entries: AuditEntry[] = []
  let scanned = 0
  let last: number | undefined
  for await (const entry of store.audit.values({ gt: seqKey(after ?? 0) })) {
    if (entries.length === limit || scanned === AUDIT_SCAN_LIMIT) return { entries, ...(last !== undefined ? { next: last } : {}) }
    scanned++
    last = entry.seq
    if (since !== undefined && entry.at < since) continue
    if (prefix !== '' && !entry.keys.some(k => k.startsWith(prefix))) continue
    entries.push(entry)
  }
  return { entries }
}
