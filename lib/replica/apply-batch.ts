/**
 * One run of applied records as one LevelDB batch: each version a record adds
 * (entity, history entry, change index, with what retention drops), and the
 * replica's counters as they stand after the run. Nothing is written until
 * the replica commits the batch, so a crash leaves all of it or none.
 */
import type { AbstractBatchOperation } from 'abstract-level'
import { RECORD_SCHEMA_VERSION, type ReadRecord } from '../record.js'
import { historyKey, seqKey, type Db, type Store, type StoredEntity, type StoredVersion } from './store.js'

/** One applied record and what the replica held for its key before. */
export interface AppliedChange {
  key: string
  stored: StoredVersion
  prevVersion: number
}

/** The replica's counters a run of records moves. */
export interface ReplicaCounters {
  /** Keys holding a value (not absent, not a tombstone). */
  live: number
  /** A watcher resuming below this sequence may have lost changes to retention. */
  horizon: number
}

export class ApplyBatch {
  // One array batch rather than a chained one: abstract-level's chained put
  // costs several times more per operation, and a batch holds thousands.
  readonly ops: Array<AbstractBatchOperation<Db, string, unknown>> = []
  readonly applied: AppliedChange[] = []
  readonly counters: ReplicaCounters
  readonly #store: Store
  readonly #depth: number

  constructor (store: Store, depth: number, counters: ReplicaCounters) {
    this.#store = store
    this.#depth = depth
    this.counters = { ...counters }
  }

  /**
   * Adds `record`, applied at `seq` on top of `prev`: the new entity, its
   * history entry and change index entry; the oldest retained versions past
   * the history depth go. Returns the new entity (the key's head from here).
   */
  add (seq: number, record: ReadRecord, prev: StoredEntity | undefined): StoredEntity {
    const { entities, history, changes } = this.#store
    const stored = storedVersionOf(seq, record)
    const retained: Array<[number, number]> = [...(prev?.retained ?? []), [record.version, seq]]
    const dropped = retained.splice(0, Math.max(0, retained.length - this.#depth))
    for (const [version, droppedSeq] of dropped) {
      this.ops.push({ type: 'del', key: historyKey(record.key, version), sublevel: history }, { type: 'del', key: seqKey(droppedSeq), sublevel: changes })
    }
    if (dropped.length > 0) this.counters.horizon = Math.max(this.counters.horizon, retained[0]?.[1] ?? 0)
    const entity: StoredEntity = { ...stored, retained, pruned: (prev?.pruned ?? false) || dropped.length > 0 }
    const prevVersion = prev?.version ?? 0
    this.ops.push(
      { type: 'put', key: record.key, value: entity, sublevel: entities },
      { type: 'put', key: historyKey(record.key, record.version), value: stored, sublevel: history },
      { type: 'put', key: seqKey(seq), value: { key: record.key, version: record.version, prevVersion }, sublevel: changes }
    )
    this.counters.live += (record.op === 'delete' ? 0 : 1) - (prev === undefined || prev.op === 'delete' ? 0 : 1)
    this.applied.push({ key: record.key, stored, prevVersion })
    return entity
  }

  /** Adds a write to the replica's meta sublevel. */
  meta (key: string, value: string): void {
    this.ops.push({ type: 'put', key, value, sublevel: this.#store.meta })
  }
}

/** A record as the replica keeps it, applied at `seq`. */
export function storedVersionOf (seq: number, record: ReadRecord): StoredVersion {
  const { version, op, meta } = record
  if (record.op === 'delete') return { seq, version, op, meta }
  return { seq, version, op, meta, value: record.value, ...(record.v === RECORD_SCHEMA_VERSION ? { schema: RECORD_SCHEMA_VERSION } : {}) }
}
