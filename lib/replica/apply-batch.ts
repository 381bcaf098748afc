/**
 * One run of applied records as one LevelDB batch: each version a record (or
 * a changeset, several keys at one sequence) adds
 * (entity, history entry, change index, with what retention drops), and the
 * replica's counters as they stand after the run. Nothing is written until
 * the replica commits the batch, so a crash leaves all of it or none.
 */
import type { AbstractBatchOperation } from 'abstract-level'
import { RECORD_SCHEMA_VERSION, type ReadRecord, type RecordMeta } from '../records/record.js'
import type { ChangesetRecord } from '../records/transaction-record.js'
import type { AuditEntry } from '../shapes/audit.js'
import { historyKey, seqKey, subjectSeqOf, type Db, type Store, type StoredEntity, type StoredRotation, type StoredVersion } from './store.js'

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
   * Adds a version of `key` applied on top of `prev`: the new entity, its
   * history entry and change index entry; the oldest retained versions past
   * the history depth go. Returns the new entity (the key's head from here).
   */
  add (key: string, stored: StoredVersion, prev: StoredEntity | undefined): StoredEntity {
    const { entities, history, changes } = this.#store
    const { version, seq } = stored
    const index = stored.changeset?.index
    const retained: StoredEntity['retained'] = [...(prev?.retained ?? []), index === undefined ? [version, seq] : [version, seq, index]]
    const dropped = retained.splice(0, Math.max(0, retained.length - this.#depth))
    for (const [droppedVersion, droppedSeq, droppedIndex] of dropped) {
      this.ops.push({ type: 'del', key: historyKey(key, droppedVersion), sublevel: history }, { type: 'del', key: seqKey(droppedSeq, droppedIndex), sublevel: changes })
    }
    if (dropped.length > 0) this.counters.horizon = Math.max(this.counters.horizon, retained[0]?.[1] ?? 0)
    const entity: StoredEntity = { ...stored, retained, pruned: (prev?.pruned ?? false) || dropped.length > 0 }
    // A changeset has a subject of its own: the key's subject still ends where it did.
    if (stored.changeset !== undefined) entity.subjectSeq = prev === undefined ? 0 : subjectSeqOf(prev)
    const prevVersion = prev?.version ?? 0
    this.ops.push(
      { type: 'put', key, value: entity, sublevel: entities },
      { type: 'put', key: historyKey(key, version), value: stored, sublevel: history },
      { type: 'put', key: seqKey(seq, index), value: { key, version, prevVersion }, sublevel: changes }
    )
    this.counters.live += (stored.op === 'delete' ? 0 : 1) - (prev === undefined || prev.op === 'delete' ? 0 : 1)
    this.applied.push({ key, stored, prevVersion })
    return entity
  }

  /** Writes a rotation's new state. */
  rotation (rotation: StoredRotation): void {
    this.ops.push({ type: 'put', key: rotation.id, value: rotation, sublevel: this.#store.rotations })
  }

  /** Notes that the open rotation `id` stages `key` (`undefined`: no longer). */
  staged (key: string, id: string | undefined): void {
    const { staged } = this.#store
    this.ops.push(id === undefined ? { type: 'del', key, sublevel: staged } : { type: 'put', key, value: id, sublevel: staged })
  }

  /** Adds an entry to the audit trail. */
  audit (entry: AuditEntry): void {
    this.ops.push({ type: 'put', key: seqKey(entry.seq), value: entry, sublevel: this.#store.audit })
  }

  /** Adds a write to the replica's meta sublevel. */
  meta (key: string, value: string): void {
    this.ops.push({ type: 'put', key, value, sublevel: this.#store.meta })
  }
}

/** A key's record as the replica keeps it, applied at `seq`; `signer`: its verified signer, under a policy. */
export function storedVersionOf (seq: number, record: ReadRecord, signer?: string): StoredVersion {
  const { version, op, meta } = record
  const by = signer === undefined ? {} : { signer }
  if (record.op === 'delete') return { seq, version, op, meta, ...by }
  if ('policy' in record) return { seq, version, op, meta, policy: record.policy, sig: record.sig, ...by }
  return { seq, version, op, meta, value: record.value, ...(record.v === RECORD_SCHEMA_VERSION ? { schema: RECORD_SCHEMA_VERSION } : {}), ...by }
}

/**
 * The versions a changeset writes, as the replica keeps them, all applied at
 * `seq`. For a released rotation: its staged changes under the rotation's id
 * and the release's meta (who made them current, when), their values sealed
 * bound to the stage's meta (`sealedIn`).
 */
export function storedVersionsOfChangeset (seq: number, { id, meta, changes }: Pick<ChangesetRecord, 'id' | 'meta' | 'changes'>, sealedIn?: RecordMeta, signer?: string): Array<{ key: string, stored: StoredVersion }> {
  const size = changes.length
  const by = signer === undefined ? {} : { signer }
  return changes.map((change, index) => {
    const { key, version, op } = change
    const changeset = { id, index, size }
    const stored: StoredVersion = change.op === 'delete'
      ? { seq, version, op, meta, changeset, ...by }
      : { seq, version, op, meta, value: change.value, schema: RECORD_SCHEMA_VERSION, changeset, ...(sealedIn !== undefined ? { sealedIn } : {}), ...by }
    return { key, stored }
  })
}
