/**
 * Reading a log entry as a record: a key's record on a key's subject, a
 * transaction record (a changeset, a rotation's stage, ack, release or
 * abort) on a transaction subject. The first steps
 * of every verdict (lib/verdict.ts); never throws, says nothing of authenticity.
 */
import type { LogEntry } from '../log/abstract-log.js'
import { checkKeyRecord, parseRecord, type DecodeFailure, type ReadRecord } from './record.js'
import { checkRotationRecord, type RotationRecord } from './rotation-record.js'
import { checkChangeset, TRANSACTION_SCHEMA_VERSION, type ChangesetRecord } from './transaction-record.js'

/** Any record a replica reads: one key's, a changeset, or a rotation's. */
export type AnyRecord = ReadRecord | ChangesetRecord | RotationRecord

/** The outcome of reading an entry. */
export type EntryRead =
  /** `verified`: whether its signature verifies, when checked ahead of the verdict (a replica does so in parallel for a run). */
  | { ok: true, record: AnyRecord, verified?: boolean }
  | { ok: false, reason: DecodeFailure, detail: string }

/** Parses and validates the record at `entry`, for a replica of `namespace`. */
export function decodeEntry (entry: LogEntry, namespace: string): EntryRead {
  const read = parseRecord(entry.data)
  if (!read.ok) return read
  const parsed = read.value
  const v = (parsed as { v?: unknown } | null)?.v
  if (entry.transaction === undefined) {
    if (v === TRANSACTION_SCHEMA_VERSION) return { ok: false, reason: 'schema', detail: 'a transaction record on a key\'s subject' }
    return checkKeyRecord(parsed, entry.key, namespace)
  }
  if (typeof v === 'number' && v > TRANSACTION_SCHEMA_VERSION) {
    return { ok: false, reason: 'newer-schema', detail: `transaction record of schema version ${v}; this node reads up to ${TRANSACTION_SCHEMA_VERSION}: upgrade credreg` }
  }
  if (v !== TRANSACTION_SCHEMA_VERSION) return { ok: false, reason: 'schema', detail: `a record of schema version ${JSON.stringify(v)} on a transaction subject` }
  const checked = (parsed as { op?: unknown }).op === 'changeset' ? checkChangeset(parsed) : checkRotationRecord(parsed)
  if (!checked.ok) return { ok: false, reason: 'schema', detail: checked.detail }
  const { record } = checked
  if (record.id !== entry.transaction) {
    return { ok: false, reason: 'wrong-key', detail: `transaction ${record.id} on the subject of ${JSON.stringify(entry.transaction)}` }
  }
  if (record.ns !== namespace) return { ok: false, reason: 'wrong-namespace', detail: `record of namespace ${record.ns}` }
  return { ok: true, record }
}
