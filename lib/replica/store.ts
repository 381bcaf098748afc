/**
 * The replica's LevelDB layout. Values stay sealed on disk; they are opened
 * only when read.
 *
 *   entities  key                      → StoredEntity (latest version, tombstones too)
 *   history   key \0 version(10 digits) → StoredVersion (the last `depth` versions)
 *   changes   seq(16 digits)            → ChangeRef (what each retained version changed)
 *   meta      appliedSeq | identity | nodeId | liveCount | resyncHorizon
 */
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { RecordMeta } from '../record.js'
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
}

/** The latest version of a key plus what the replica needs to prune and resync without reads. */
export interface StoredEntity extends StoredVersion {
  /** `[version, seq]` of every retained history entry, oldest first. */
  retained: Array<[number, number]>
  /** Whether older versions were pruned (so the oldest retained one has no retained predecessor). */
  pruned: boolean
  /**
   * Where the latest version's record is in the log, when not at `seq`: after a
   * reseed, versions keep the sequence the replica applied them at (watchers
   * resume from those) while their records moved to the new log.
   */
  logSeq?: number
}

/** What a retained change was: enough to rebuild its change event. */
export interface ChangeRef {
  key: string
  version: number
  prevVersion: number
}

export interface Store {
  db: Db
  entities: Sub<StoredEntity>
  history: Sub<StoredVersion>
  changes: Sub<ChangeRef>
  meta: Sub<string>
}

export function openStore (db: Db): Store {
  return {
    db,
    entities: db.sublevel<string, StoredEntity>('entities', { valueEncoding: 'json' }),
    history: db.sublevel<string, StoredVersion>('history', { valueEncoding: 'json' }),
    changes: db.sublevel<string, ChangeRef>('changes', { valueEncoding: 'json' }),
    meta: db.sublevel<string, string>('meta', { valueEncoding: 'utf8' })
  }
}

export function historyKey (key: string, version: number): string {
  return `${key}\0${String(version).padStart(10, '0')}`
}

/** Range of all history entries of `key`. */
export function historyRange (key: string): { gt: string, lt: string } {
  return { gt: `${key}\0`, lt: `${key}\x01` }
}

export function seqKey (seq: number): string {
  return String(seq).padStart(16, '0')
}
