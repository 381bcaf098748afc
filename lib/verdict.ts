/**
 * The verdict: whether a record of the change log counts. Every replica
 * decides every record with this one function, from the record and the state
 * in force at its log position only (the key's latest applied version, and
 * whether the log holds authenticated records yet): no clock, no local
 * setting. So replicas that read the same log hold the same state, and a
 * writer learns what became of its record from its own replica's verdict.
 * docs/verdict.md has the rules as a table.
 */
import type { Authenticator } from './authenticator.js'
import type { LogEntry } from './log/abstract-log.js'
import { decodeRecord, deleteTagParts, LEGACY_SCHEMA_VERSION, sealContextOf, type DecodeFailure, type ReadRecord } from './record.js'
import type { Sealer } from './seal.js'
import type { WriteOp } from './types.js'
import { isJsonObject, MAX_VALUE_BYTES_CEILING, MAX_VALUE_DEPTH, depthOf } from './value.js'

/** Why a record does not count. */
export type Refusal =
  | DecodeFailure
  /** Schema 2 that does not authenticate under this namespace's key (a value that does not open bound to the record, a delete's tag): forged, altered, or of another key. */
  | 'unauthenticated'
  /** Schema 1 (no tag) after the log's first authenticated record. */
  | 'legacy'
  /** Schema 1: the sealed value does not open under the namespace key, bound to its namespace, key and version. */
  | 'seal'
  /** The value opens, but is not a JSON object. */
  | 'not-an-object'
  /** The value opens, but is larger or deeper than any node may write. */
  | 'too-large'
  /** A version at or below the key's latest. */
  | 'stale-version'
  /** A version further above the key's latest than the log has records since it. */
  | 'version-jump'
  /** A delete of a key that does not exist. */
  | 'nothing-to-delete'

/** What the verdict knows of a key: its latest applied version (tombstones too). */
export interface KeyState {
  version: number
  op: WriteOp
  /** Log sequence of that version's record. */
  seq: number
}

/** What the verdict is computed with besides the record: the same on every replica of a namespace. */
export interface VerdictContext {
  namespace: string
  authenticator: Authenticator
  sealer: Sealer
  /** Whether schema 1 records still count: only until the log's first authenticated record. */
  legacy: boolean
}

/**
 * `applied`: the record counts. A refusal carries the record when it was
 * authentic (so the caller may act on a stale one, and notice that the log
 * is authenticated); an unauthenticated record is never handed on.
 */
export type Verdict =
  | { applied: true, record: ReadRecord }
  | { applied: false, reason: Refusal, detail: string, record?: ReadRecord }

/** Decides the record at `entry` given the state in force for its key (`undefined`: no version applied). */
export function verdict (entry: LogEntry, head: KeyState | undefined, ctx: VerdictContext): Verdict {
  const decoded = decodeRecord(entry.data, entry.key, ctx.namespace)
  if (!decoded.ok) return { applied: false, reason: decoded.reason, detail: decoded.detail }
  const { record } = decoded

  if (record.v === LEGACY_SCHEMA_VERSION) {
    if (!ctx.legacy) return { applied: false, reason: 'legacy', detail: 'an unauthenticated (schema 1) record after authenticated ones' }
  } else if (record.op === 'delete') {
    // A put or patch is authenticated by its value's seal, checked below; a delete has a tag.
    if (record.auth.kid !== ctx.authenticator.kid) {
      return { applied: false, reason: 'unauthenticated', detail: `tagged under key id ${record.auth.kid}, this namespace's key is ${ctx.authenticator.kid}` }
    }
    if (!ctx.authenticator.verify('record', deleteTagParts(record), record.auth.tag)) {
      return { applied: false, reason: 'unauthenticated', detail: 'the tag does not match the record' }
    }
  }

  const value = valueProblem(record, ctx)
  if (value !== undefined) {
    // A schema 2 value that does not open means the record is not authentic: it is never handed on.
    if (value.reason === 'unauthenticated') return { applied: false, ...value }
    return { applied: false, ...value, record }
  }

  const current = head?.version ?? 0
  if (record.version <= current) return { applied: false, reason: 'stale-version', detail: `version ${record.version} after ${current}`, record }
  // Each version of a key is its own record at a higher sequence, so an honest log
  // cannot climb further than the number of records since the key's latest.
  const room = entry.seq - (head?.seq ?? 0)
  if (record.version - current > room) {
    return { applied: false, reason: 'version-jump', detail: `version ${record.version} after ${current}, only ${room} records later`, record }
  }
  if (record.op === 'delete' && (record.version === 1 || (head?.op === 'delete' && record.version === current + 1))) {
    return { applied: false, reason: 'nothing-to-delete', detail: `a delete of a key that does not exist (version ${record.version})`, record }
  }
  return { applied: true, record }
}

// The value must be what an honest writer produces: it opens, it is a JSON
// object, within the ceiling every node's size limit sits under and no deeper
// than any value may nest (a deeper one would fail every later read).
function valueProblem (record: ReadRecord, ctx: VerdictContext): { reason: Refusal, detail: string } | undefined {
  if (record.op === 'delete') return undefined
  let plain: Buffer
  try {
    plain = ctx.sealer.open(record.value, sealContextOf(record, record.v))
  } catch (err) {
    return { reason: record.v === LEGACY_SCHEMA_VERSION ? 'seal' : 'unauthenticated', detail: (err as Error).message }
  }
  if (plain.length > MAX_VALUE_BYTES_CEILING) return { reason: 'too-large', detail: `a value of ${plain.length} bytes` }
  let value: unknown
  try {
    value = JSON.parse(plain.toString('utf8'))
  } catch {
    return { reason: 'not-an-object', detail: 'the value is not JSON' }
  }
  if (!isJsonObject(value)) return { reason: 'not-an-object', detail: 'the value is not a JSON object' }
  const depth = depthOf(value)
  return depth > MAX_VALUE_DEPTH ? { reason: 'too-large', detail: `a value nested ${depth} levels deep` } : undefined
}
