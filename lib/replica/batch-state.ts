/**
 * The state in force while the replica applies one run of records: the
 * current entity of every key the run writes, every rotation it names,
 * which open rotation stages each key it stages, and the policy in force. Loaded once per run (the
 * keys of a changeset or a release are known only from the records, hence
 * decoding first), then moved on by each record the verdict applies, so
 * every verdict sees the state left by the records before it.
 */
import { PolicyInForce } from '../identity/policy.js'
import type { AnyRecord, EntryRead } from '../records/decode-entry.js'
import type { RotationEvent } from '../shapes/rotation.js'
import type { KeyState, StateInForce } from '../verdict.js'
import { storedVersionOf, storedVersionsOfChangeset, type ApplyBatch } from './apply-batch.js'
import type { Store, StoredEntity, StoredRotation } from './store.js'

// A live write's run holds a key or a few: direct reads spare it a round trip through the
// thread pool; a catch-up run reads there while the log goes on delivering.
const SYNC_READ_KEYS = 16

export class BatchState implements StateInForce {
  readonly #heads: Map<string, StoredEntity | undefined>
  readonly #rotations: Map<string, StoredRotation | undefined>
  readonly #staged: Map<string, string | undefined>
  #policy: PolicyInForce | undefined

  private constructor (heads: Map<string, StoredEntity | undefined>, rotations: Map<string, StoredRotation | undefined>, staged: Map<string, string | undefined>, policy: PolicyInForce | undefined) {
    this.#heads = heads
    this.#rotations = rotations
    this.#staged = staged
    this.#policy = policy
  }

  /**
   * Loads what the decoded records of a run need (`sync`: the store reads
   * synchronously), starting from `policy`, the policy in force before the run.
   */
  static async load (store: Store, reads: Array<EntryRead | undefined>, sync: boolean, policy: PolicyInForce | undefined): Promise<BatchState> {
    const records = reads.flatMap(r => (r?.ok === true ? [r.record] : []))
    const rotationIds = unique(records.flatMap(r => (r.op === 'stage' ? [r.id] : 'rotation' in r ? [r.rotation] : [])))
    const rotations = await read<StoredRotation>(store.rotations, rotationIds, sync)
    // A release writes the keys its rotation staged (earlier, or in this very run).
    const keys = unique(records.flatMap(r => {
      if (r.op === 'changeset' || r.op === 'stage') return r.changes.map(c => c.key)
      if (r.op === 'release') return rotations.get(r.rotation)?.changes.map(c => c.key) ?? []
      return 'key' in r ? [r.key] : []
    }))
    const stagedKeys = unique(records.flatMap(r => (r.op === 'stage' ? r.changes.map(c => c.key) : [])))
    const [heads, staged] = await Promise.all([read<StoredEntity>(store.entities, keys, sync), read<string>(store.staged, stagedKeys, sync)])
    return new BatchState(heads, rotations, staged, policy)
  }

  policy (): PolicyInForce | undefined {
    return this.#policy
  }

  head (key: string): KeyState | undefined {
    const e = this.#heads.get(key)
    // Where the latest version's record is in the log, wherever the replica applied it.
    return e === undefined ? undefined : { version: e.version, op: e.op, seq: e.logSeq ?? e.seq }
  }

  rotation (id: string): StoredRotation | undefined {
    return this.#rotations.get(id)
  }

  stagedIn (key: string): string | undefined {
    return this.#staged.get(key)
  }

  /** The stored entity of `key` as the run stands. */
  entity (key: string): StoredEntity | undefined {
    return this.#heads.get(key)
  }

  /** Sets the entity of `key` as the run stands (a reseeded log's record taken on). */
  setEntity (key: string, entity: StoredEntity): void {
    this.#heads.set(key, entity)
  }

  /**
   * Adds what an applied record changes to `batch` and moves the state on:
   * versions of keys (a key's record, a changeset, a release), rotations.
   * Returns the rotation event a rotation record makes. `signer`: the
   * record's verified signer, under a policy.
   */
  apply (seq: number, record: AnyRecord, batch: ApplyBatch, signer?: string): RotationEvent | undefined {
    switch (record.op) {
      case 'changeset':
        this.#write(batch, storedVersionsOfChangeset(seq, record, undefined, signer))
        return undefined
      case 'stage': {
        const rotation: StoredRotation = {
          id: record.id,
          status: 'staged',
          seq,
          meta: record.meta,
          hosts: record.hosts,
          ...(record.deadline !== undefined ? { deadline: record.deadline } : {}),
          changes: record.changes,
          acks: {}
        }
        this.#putRotation(batch, rotation)
        for (const { key } of record.changes) this.#stage(batch, key, record.id)
        return { event: 'staged', rotation: record.id, seq, nodeId: record.meta.nodeId }
      }
      case 'ack': {
        const rotation = this.#rotations.get(record.rotation) as StoredRotation
        const ack = { ok: record.ok, seq, id: record.id, at: record.meta.updatedAt, ...(record.message !== undefined ? { message: record.message } : {}) }
        this.#putRotation(batch, { ...rotation, acks: { ...rotation.acks, [record.meta.nodeId]: ack } })
        return { event: 'acked', rotation: record.rotation, seq, nodeId: record.meta.nodeId, ok: record.ok, ...(record.message !== undefined ? { message: record.message } : {}) }
      }
      case 'release': {
        const rotation = this.#rotations.get(record.rotation) as StoredRotation
        // The staged values, sealed bound to the rotation and its stage, become current at the release's sequence.
        this.#write(batch, storedVersionsOfChangeset(seq, { id: rotation.id, meta: record.meta, changes: rotation.changes }, rotation.meta, signer))
        this.#close(batch, rotation, { op: 'release', seq, meta: record.meta, forced: record.forced })
        return { event: 'released', rotation: record.rotation, seq, nodeId: record.meta.nodeId, forced: record.forced }
      }
      case 'abort': {
        const rotation = this.#rotations.get(record.rotation) as StoredRotation
        this.#close(batch, rotation, { op: 'abort', seq, meta: record.meta, ...(record.reason !== undefined ? { reason: record.reason } : {}) })
        return { event: 'aborted', rotation: record.rotation, seq, nodeId: record.meta.nodeId, ...(record.reason !== undefined ? { message: record.reason } : {}) }
      }
      default:
        // A version of the policy is in force from the next record on.
        if ('policy' in record) this.#policy = new PolicyInForce(record.version, record.policy)
        this.#write(batch, [{ key: record.key, stored: storedVersionOf(seq, record, signer) }])
        return undefined
    }
  }

  #write (batch: ApplyBatch, versions: ReturnType<typeof storedVersionsOfChangeset>): void {
    for (const { key, stored } of versions) this.#heads.set(key, batch.add(key, stored, this.#heads.get(key)))
  }

  #close (batch: ApplyBatch, rotation: StoredRotation, closed: NonNullable<StoredRotation['closed']>): void {
    this.#putRotation(batch, { ...rotation, status: closed.op === 'release' ? 'released' : 'aborted', closed })
    for (const { key } of rotation.changes) this.#stage(batch, key, undefined)
  }

  #putRotation (batch: ApplyBatch, rotation: StoredRotation): void {
    this.#rotations.set(rotation.id, rotation)
    batch.rotation(rotation)
  }

  #stage (batch: ApplyBatch, key: string, id: string | undefined): void {
    this.#staged.set(key, id)
    batch.staged(key, id)
  }
}

function unique (items: string[]): string[] {
  return [...new Set(items)]
}

/** What the run reads a sublevel with. */
interface Readable<V> {
  getSync: (key: string) => V | undefined
  getMany: (keys: string[]) => Promise<Array<V | undefined>>
}

async function read<V> (sub: Readable<V>, keys: string[], sync: boolean): Promise<Map<string, V | undefined>> {
  const values = sync && keys.length <= SYNC_READ_KEYS ? keys.map(k => sub.getSync(k)) : keys.length === 0 ? [] : await sub.getMany(keys)
  return new Map(keys.map((k, i) => [k, values[i]]))
}
