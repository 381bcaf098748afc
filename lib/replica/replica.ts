/**
 * The local replica: applies log records strictly in log order, one LevelDB
 * batch per run of records, each batch carrying the new applied sequence, so
 * a crash at any instant leaves a replica that resumes from applied + 1.
 */
import { EventEmitter } from 'node:events'
import type { AbstractBatchOperation } from 'abstract-level'
import { CredregError } from '../errors.js'
import { decodeRecord, type RejectReason } from '../record.js'
import type { Sealer } from '../seal.js'
import type { Entity, JsonObject, ListOptions, ListPage, Logger } from '../types.js'
import type { LogEntry } from '../log/abstract-log.js'
import { historyKey, historyRange, openStore, seqKey, type Db, type Store, type StoredEntity, type StoredVersion } from './store.js'

/** One applied record and what the replica held for its key before. */
export interface AppliedChange {
  key: string
  stored: StoredVersion
  prevVersion: number
}

export interface ReplicaOptions {
  db: Db
  namespace: string
  sealer: Sealer
  historyDepth: number
  logger?: Logger
}

interface Waiter { seq: number, resolve: () => void }

const SYNC_READ_KEYS = 16

export class Replica extends EventEmitter<{ applied: [AppliedChange[]] }> {
  readonly store: Store
  readonly namespace: string
  readonly #sealer: Sealer
  readonly #depth: number
  readonly #logger: Logger | undefined
  #appliedSeq = 0
  #liveCount = 0
  #resyncHorizon = 0
  #identity: string | undefined
  #waiters: Waiter[] = []
  readonly rejected: Partial<Record<RejectReason, number>> = {}
  // A point read of one small value is a few microseconds in LevelDB's caches, far less than
  // the round trip through libuv's thread pool that an async get costs, so reads go direct.
  readonly #sync: boolean

  constructor ({ db, namespace, sealer, historyDepth, logger }: ReplicaOptions) {
    super()
    this.setMaxListeners(0)
    this.store = openStore(db)
    this.#sync = 'getSync' in db.supports && db.supports.getSync === true
    this.namespace = namespace
    this.#sealer = sealer
    this.#depth = historyDepth
    this.#logger = logger
  }

  get appliedSeq (): number { return this.#appliedSeq }
  get liveCount (): number { return this.#liveCount }
  get identity (): string | undefined { return this.#identity }
  /** A watcher resuming below this sequence may have lost changes to retention. */
  get resyncHorizon (): number { return this.#resyncHorizon }

  async load (): Promise<void> {
    const [applied, identity, live, horizon] = await this.store.meta.getMany(['appliedSeq', 'identity', 'liveCount', 'resyncHorizon'])
    this.#appliedSeq = Number(applied ?? 0)
    this.#identity = identity
    this.#liveCount = Number(live ?? 0)
    this.#resyncHorizon = Number(horizon ?? 0)
  }

  async setIdentity (identity: string): Promise<void> {
    await this.store.meta.put('identity', identity)
    this.#identity = identity
  }

  /** Applies `entries` (ascending sequences above the applied one) in one atomic batch. */
  async apply (entries: LogEntry[]): Promise<void> {
    const fresh = entries.filter(e => e.seq > this.#appliedSeq)
    const last = fresh.at(-1)
    if (last === undefined) return
    const keys = [...new Set(fresh.flatMap(e => (e.key === undefined || e.control === true ? [] : [e.key])))]
    const current = new Map<string, StoredEntity | undefined>()
    // A live write's batch holds a key or a few: direct reads (see `head`) spare it a round trip
    // through the thread pool; a catch-up batch reads there while the log goes on delivering.
    const loaded = this.#sync && keys.length <= SYNC_READ_KEYS ? keys.map(k => this.store.entities.getSync(k)) : await this.store.entities.getMany(keys)
    keys.forEach((k, i) => current.set(k, loaded[i]))

    const { entities, history, changes, meta } = this.store
    // One array batch rather than a chained one: abstract-level's chained put
    // costs several times more per operation, and a batch holds thousands.
    const ops: Array<AbstractBatchOperation<Db, string, unknown>> = []
    const applied: AppliedChange[] = []
    let live = this.#liveCount
    let horizon = this.#resyncHorizon
    for (const entry of fresh) {
      if (entry.control === true) continue
      const decoded = decodeRecord(entry.data, entry.key, this.namespace)
      if (!decoded.ok) {
        this.#reject(entry, decoded.reason, decoded.detail)
        continue
      }
      const { record } = decoded
      const prev = current.get(record.key)
      if (prev !== undefined && record.version <= prev.version) {
        this.#reject(entry, 'stale-version', `version ${record.version} after ${prev.version}`)
        continue
      }
      if (record.op !== 'delete') {
        try {
          this.#sealer.open(record.value, { namespace: this.namespace, key: record.key, version: record.version })
        } catch (err) {
          this.#reject(entry, 'seal', (err as Error).message)
          continue
        }
      }
      const stored: StoredVersion = { seq: entry.seq, version: record.version, op: record.op, meta: record.meta, ...(record.op !== 'delete' ? { value: record.value } : {}) }
      const retained: Array<[number, number]> = [...(prev?.retained ?? []), [record.version, entry.seq]]
      const dropped = retained.splice(0, Math.max(0, retained.length - this.#depth))
      for (const [version, seq] of dropped) {
        ops.push({ type: 'del', key: historyKey(record.key, version), sublevel: history }, { type: 'del', key: seqKey(seq), sublevel: changes })
      }
      const pruned = (prev?.pruned ?? false) || dropped.length > 0
      if (dropped.length > 0) horizon = Math.max(horizon, retained[0]?.[1] ?? 0)
      const entity: StoredEntity = { ...stored, retained, pruned }
      const prevVersion = prev?.version ?? 0
      ops.push(
        { type: 'put', key: record.key, value: entity, sublevel: entities },
        { type: 'put', key: historyKey(record.key, record.version), value: stored, sublevel: history },
        { type: 'put', key: seqKey(entry.seq), value: { key: record.key, version: record.version, prevVersion }, sublevel: changes }
      )
      live += (record.op === 'delete' ? 0 : 1) - (prev === undefined || prev.op === 'delete' ? 0 : 1)
      current.set(record.key, entity)
      applied.push({ key: record.key, stored, prevVersion })
    }
    ops.push(
      { type: 'put', key: 'appliedSeq', value: String(last.seq), sublevel: meta },
      { type: 'put', key: 'liveCount', value: String(live), sublevel: meta },
      { type: 'put', key: 'resyncHorizon', value: String(horizon), sublevel: meta }
    )
    await this.store.db.batch<string, unknown>(ops, {})
    this.#appliedSeq = last.seq
    this.#liveCount = live
    this.#resyncHorizon = horizon
    for (const change of applied) {
      this.#logger?.debug({ key: change.key, version: change.stored.version, seq: change.stored.seq, op: change.stored.op, correlationId: change.stored.meta.correlationId }, 'applied')
    }
    if (applied.length > 0) this.emit('applied', applied)
    this.#wake()
  }

  #reject (entry: LogEntry, reason: RejectReason, detail: string): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1
    this.#logger?.warn({ seq: entry.seq, key: entry.key, reason, detail }, 'rejected a log record')
  }

  /** Resolves once the replica has applied through `seq`; rejects with `TIMEOUT` after `timeoutMs`. */
  async waitForApplied (seq: number, timeoutMs: number): Promise<void> {
    if (this.#appliedSeq >= seq) return
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        }
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter(w => w !== waiter)
        reject(new CredregError('TIMEOUT', `the replica did not apply sequence ${seq} within ${timeoutMs} ms (applied: ${this.#appliedSeq})`))
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }

  #wake (): void {
    const ready = this.#waiters.filter(w => w.seq <= this.#appliedSeq)
    if (ready.length === 0) return
    this.#waiters = this.#waiters.filter(w => w.seq > this.#appliedSeq)
    for (const w of ready) w.resolve()
  }

  /** The latest stored version of `key` (tombstones included), or `undefined`. */
  async head (key: string): Promise<StoredEntity | undefined> {
    return this.#sync ? this.store.entities.getSync(key) : await this.store.entities.get(key)
  }

  async storedVersion (key: string, version: number): Promise<StoredVersion | undefined> {
    const at = historyKey(key, version)
    return this.#sync ? this.store.history.getSync(at) : await this.store.history.get(at)
  }

  async storedHistory (key: string): Promise<StoredVersion[]> {
    return await this.store.history.values(historyRange(key)).all()
  }

  /** Opens the sealed value of a stored version (`undefined` for a delete). */
  open (key: string, stored: StoredVersion): JsonObject | undefined {
    if (stored.value === undefined) return undefined
    const plain = this.#sealer.open(stored.value, { namespace: this.namespace, key, version: stored.version })
    return JSON.parse(plain.toString('utf8')) as JsonObject
  }

  toEntity (key: string, stored: StoredVersion): Entity {
    return { key, version: stored.version, value: this.open(key, stored), meta: { ...stored.meta, op: stored.op } }
  }

  async list (prefix: string, { limit = 100, after }: ListOptions): Promise<ListPage> {
    const range = { gte: prefix, lt: `${prefix}\xff` }
    const start = after !== undefined && after >= prefix ? { gt: after, lt: range.lt } : range
    const items: ListPage['items'] = []
    let last: string | undefined
    let more = false
    for await (const [key, entity] of this.store.entities.iterator(start)) {
      if (items.length === limit) {
        more = true
        break
      }
      last = key
      if (entity.op !== 'delete') items.push({ key, version: entity.version, updatedAt: entity.meta.updatedAt })
    }
    return more && last !== undefined ? { items, next: last } : { items }
  }
}
