/**
 * The replica's LevelDB layout. Values stay sealed on disk; they are opened
 * only when read. Sequences and versions are zero-padded to a fixed width so
 * LevelDB's byte order is their numeric order.
 *
 *   entities  key                      → StoredEntity (latest version, tombstones too)
 *   history   key \0 version(10 digits) → StoredVersion (the last `depth` versions)
 *   changes   seq(16 digits)            → ChangeRef (what each retained version changed);
 *             seq.index(3 digits)       for the changes of one changeset, in its order
 *   rotations id                       → StoredRotation (every rotation staged, open or closed)
 *   staged    key                      → id of the open rotation that stages the key
 *   audit     seq(16 digits)            → AuditEntry (who did what, decided how: lib/replica/audit.ts)
 *   meta      one string value per name, below
 *
 * The meta names (all numbers are decimal strings; an absent name reads as 0
 * or empty):
 *
 *   appliedSeq         last log sequence applied (the follower reads on from the next)
 *   identity           the log identity this replica was built from (absent: never read a log)
 *   lineage            JSON array of the identities that history continues, newest first
 *   nodeId             this node's id, generated once unless configured
 *   liveCount          entities not deleted, kept with each apply so status needs no scan
 *   resyncHorizon      a watcher resuming below this sequence may have missed pruned changes
 *   rebaseFrom         first sequence of the reseeded log being taken on: a held version
 *                      whose record lies at or above it was met there already (another
 *                      record under it is refused)
 *   rebaseUntil        while above appliedSeq, the reseeded log is read up to here before
 *                      writes go through (0 once reached)
 *   authenticatedFrom  sequence of the log's first authenticated record: from there on,
 *                      records of the schema before tags no longer count (absent: none yet)
 *
 * The change log of a standalone node (lib/log/local-log.ts) keeps its own
 * sublevels (`log-records`, `log-by-key`, `log-meta`) in the same database.
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { Policy } from '../identity/policy.js'
import type { RecordSignature } from '../identity/signature.js'
import type { AuditEntry } from '../shapes/audit.js'
import type { RecordMeta } from '../records/record.js'
import type { RecordedChange } from '../records/transaction-record.js'
import type { Sealed } from '../seal.js'
import type { WriteOp } from '../types.js'

export type Db = AbstractLevel<string | Buffer | Uint8Array, string, string>
export type Sub<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>

/** One version as the replica keeps it. */
export interface StoredVersion {
  seq: number
  version: number
  op: WriteOp
  meta: RecordMeta
  /** Absent for a delete. */
  value?: Sealed
  /**
   * 2 when the value is bound to the whole record (op and meta too, schema 2);
   * absent for a value of a schema 1 record (namespace, key and version only).
   */
  schema?: 2
  /**
   * Set when a changeset wrote this version: the changeset's id (its value is
   * sealed bound to it), this change's place in it and how many it made.
   */
  changeset?: ChangesetPosition
  /**
   * The meta the value is sealed bound to, when not `meta`: a released
   * rotation's version carries the release's meta, its value the stage's.
   */
  sealedIn?: RecordMeta
  /** The document, for a version of the policy (which carries no sealed value). */
  policy?: Policy
  /** The admin's signature, for a version of the policy: a reseeded log carries it as it was. */
  sig?: RecordSignature
  /**
   * The public key that signed the record, verified, when a policy was in
   * force (or it was a policy): who wrote it, whatever `meta` claims.
   */
  signer?: string
}

/** Where a version written by a changeset sits in it. */
export interface ChangesetPosition {
  id: string
  index: number
  size: number
}

/** The latest version of a key plus what the replica needs to prune and resync without reads. */
export interface StoredEntity extends StoredVersion {
  /** `[version, seq]` of every retained history entry, oldest first; `[version, seq, index]` for a changeset's. */
  retained: Array<[number, number] | [number, number, number]>
  /** Whether older versions were pruned (so the oldest retained one has no retained predecessor). */
  pruned: boolean
  /**
   * Where the latest version's record is in the log, when not at `seq`: after a
   * reseed, versions keep the sequence the replica applied them at (watchers
   * resume from those) while their records moved to the new log.
   */
  logSeq?: number
  /**
   * The sequence of the key's latest record on its own subject, when the
   * latest version came from a changeset (which has a subject of its own):
   * what a single write to the key expects the subject's last sequence to be.
   */
  subjectSeq?: number
}

/** What a retained change was: enough to rebuild its change event. */
export interface ChangeRef {
  key: string
  version: number
  prevVersion: number
}

/** A rotation as the replica keeps it: what the verdict needs of it, and its staged values (sealed). */
export interface StoredRotation {
  id: string
  status: 'staged' | 'released' | 'aborted'
  /** Log sequence of the stage record. */
  seq: number
  /** The stage record's meta: who staged, when; the staged values are sealed bound to it. */
  meta: RecordMeta
  hosts: string[]
  /** When any node writes an abort if the rotation is still open (ISO-8601). */
  deadline?: string
  changes: RecordedChange[]
  /** Each host's latest acknowledgement. */
  /** Each host's latest acknowledgement; `id`: its record's (absent for one applied by an earlier release). */
  acks: Record<string, { ok: boolean, message?: string, seq: number, at: string, id?: string }>
  /** The release or abort that closed it. */
  closed?: { op: 'release' | 'abort', seq: number, meta: RecordMeta, forced?: boolean, reason?: string }
}

export interface Store {
  db: Db
  entities: Sub<StoredEntity>
  history: Sub<StoredVersion>
  changes: Sub<ChangeRef>
  rotations: Sub<StoredRotation>
  staged: Sub<string>
  audit: Sub<AuditEntry>
  meta: Sub<string>
}

export function openStore (db: Db): Store {
  return {
    db,
    entities: db.sublevel<string, StoredEntity>('entities', { valueEncoding: 'json' }),
    history: db.sublevel<string, StoredVersion>('history', { valueEncoding: 'json' }),
    changes: db.sublevel<string, ChangeRef>('changes', { valueEncoding: 'json' }),
    rotations: db.sublevel<string, StoredRotation>('rotations', { valueEncoding: 'json' }),
    staged: db.sublevel<string, string>('staged', { valueEncoding: 'utf8' }),
    audit: db.sublevel<string, AuditEntry>('audit', { valueEncoding: 'json' }),
    meta: db.sublevel<string, string>('meta', { valueEncoding: 'utf8' })
  }
}

// The widths are the on-disk layout: changing one orphans every key written before.
const VERSION_DIGITS = 10
const SEQ_DIGITS = 16

/** `n` zero-padded to `digits`, so keys sort as numbers. */
function fixedWidth (n: number, digits: number): string {
  return String(n).padStart(digits, '0')
}

/** Key of one history entry: the entity key, then its version. */
export function historyKey (key: string, version: number): string {
  return `${key}\0${fixedWidth(version, VERSION_DIGITS)}`
}

/** Range of all history entries of `key`. */
export function historyRange (key: string): { gt: string, lt: string } {
  return { gt: `${key}\0`, lt: `${key}\x01` }
}

const INDEX_DIGITS = 3

/** Key of a log sequence in `changes`: one per key's record; with `index`, one per change of a changeset. */
export function seqKey (seq: number, index?: number): string {
  const at = fixedWidth(seq, SEQ_DIGITS)
  return index === undefined ? at : `${at}.${fixedWidth(index, INDEX_DIGITS)}`
}

/** The log sequence of a key in `changes`. */
export function seqOfChangeKey (changeKey: string): number {
  return Number(changeKey.slice(0, SEQ_DIGITS))
}

/** Range of `changes` keys of sequences `from` to `to`, both included. */
export function changeRange (from: number, to: number): { gte: string, lt: string } {
  return { gte: seqKey(from), lt: seqKey(to + 1) }
}

/** The sequence of the key's latest record on the key's own subject (0: none there). */
export function subjectSeqOf (entity: StoredEntity): number {
  return entity.subjectSeq ?? entity.logSeq ?? entity.seq
}
