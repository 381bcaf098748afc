/**
 * The embedded change log of a standalone node, kept in the node's own
 * LevelDB with the same semantics as a JetStream stream: growing sequences,
 * per-key conditional appends, a per-key record limit and an identity.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter, on } from 'node:events'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { CredregError } from '../errors.js'
import { AbstractLog, StaleAppendError, type AppendOptions, type LogEntry, type LogInfo, type LogManifest, type TransactionAppendOptions } from './abstract-log.js'

type Db = AbstractLevel<string | Buffer | Uint8Array, string, string>
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, string>

/** Options of {@link LocalLog}. */
export interface LocalLogOptions {
  /** The LevelDB (or a sublevel of it) the log lives in; the caller opens and closes it. */
  db: Db
  /** Records kept per key. */
  maxPerKey: number
}

const READ_BATCH = 1000
// Message ids remembered for deduplication (JetStream keeps a time window; a
// bounded count serves the same purpose for retries within one process).
const DEDUPE_IDS = 10_000

export class LocalLog extends AbstractLog {
  readonly supports: LogManifest = { shared: false, reseed: false, recordLookup: true, conditionalAppend: { key: true, log: true } }
  readonly #records: Sub
  readonly #byKey: Sub
  readonly #meta: Sub
  readonly #maxPerKey: number
  readonly #appended = new EventEmitter()
  #identity = ''
  #lastSeq = 0
  readonly #recentIds = new Map<string, number>()
  // Appends are serialized: the conditional check and the write must not interleave.
  #queue: Promise<unknown> = Promise.resolve()

  constructor ({ db, maxPerKey }: LocalLogOptions) {
    super()
    if (!Number.isSafeInteger(maxPerKey) || maxPerKey < 1) throw new TypeError('maxPerKey must be a positive integer')
    this.#records = db.sublevel('log-records')
    this.#byKey = db.sublevel('log-by-key')
    this.#meta = db.sublevel('log-meta')
    this.#maxPerKey = maxPerKey
    this.#appended.setMaxListeners(0)
  }

  get connected (): boolean {
    return this.status === 'open'
  }

  protected async _open (): Promise<void> {
    const [identity, lastSeq] = await this.#meta.getMany(['identity', 'lastSeq'])
    this.#lastSeq = lastSeq === undefined ? 0 : Number(lastSeq)
    if (identity === undefined) {
      this.#identity = `local:${randomUUID()}`
      await this.#meta.put('identity', this.#identity)
    } else {
      this.#identity = identity
    }
    this._emitConnection(true)
  }

  protected async _close (): Promise<void> {
    await this.#queue
    this.#appended.emit('closed')
  }

  protected async _append (key: string, data: Uint8Array, options: AppendOptions): Promise<number> {
    const run = this.#queue.then(async () => await this.#appendNow(key, data, options))
    this.#queue = run.catch(() => {})
    return await run
  }

  async #appendNow (key: string, data: Uint8Array, { expectedLastSeq, msgId }: AppendOptions): Promise<number> {
    const duplicate = this.#recentIds.get(msgId)
    if (duplicate !== undefined) return duplicate
    const seqs = await this.#seqsOf(key)
    if ((seqs.at(-1) ?? 0) !== expectedLastSeq) throw new StaleAppendError(key)
    const seq = this.#lastSeq + 1
    const batch = this.#records.db.batch()
      .put(pad(seq), JSON.stringify({ key, data: Buffer.from(data).toString('base64') }), { sublevel: this.#records })
      .put(`${key}\0${pad(seq)}`, '', { sublevel: this.#byKey })
    for (const old of seqs.slice(0, Math.max(0, seqs.length + 1 - this.#maxPerKey))) {
      batch.del(pad(old), { sublevel: this.#records }).del(`${key}\0${pad(old)}`, { sublevel: this.#byKey })
    }
    return await this.#write(batch, seq, msgId)
  }

  protected async _appendTransaction (id: string, data: Uint8Array, options: TransactionAppendOptions): Promise<number> {
    const run = this.#queue.then(async () => {
      const duplicate = this.#recentIds.get(options.msgId)
      if (duplicate !== undefined) return duplicate
      if (options.expectedLogSeq !== undefined && options.expectedLogSeq !== this.#lastSeq) throw new StaleAppendError(`transaction ${id}`)
      const seq = this.#lastSeq + 1
      // Not indexed by key: the per-key limit never deletes a transaction.
      const batch = this.#records.db.batch().put(pad(seq), JSON.stringify({ transaction: id, data: Buffer.from(data).toString('base64') }), { sublevel: this.#records })
      return await this.#write(batch, seq, options.msgId)
    })
    this.#queue = run.catch(() => {})
    return await run
  }

  async #write (batch: ReturnType<Sub['db']['batch']>, seq: number, msgId: string): Promise<number> {
    await batch.put('lastSeq', String(seq), { sublevel: this.#meta }).write()
    this.#lastSeq = seq
    this.#recentIds.set(msgId, seq)
    if (this.#recentIds.size > DEDUPE_IDS) this.#recentIds.delete(this.#recentIds.keys().next().value as string)
    this.#appended.emit('append')
    return seq
  }

  protected async _lastSeq (): Promise<number> {
    return this.#lastSeq
  }

  protected async _lastSeqOf (key: string): Promise<number> {
    const keys = await this.#byKey.keys({ gt: `${key}\0`, lt: `${key}\x01`, reverse: true, limit: 1 }).all()
    return keys.length === 0 ? 0 : seqOfIndexKey(keys[0] as string)
  }

  protected async _recordAt (seq: number): Promise<LogEntry | undefined> {
    const value = await this.#records.get(pad(seq))
    return value === undefined ? undefined : stored(seq, value)
  }

  protected async _recordAfter (key: string, seq: number): Promise<LogEntry | undefined> {
    const keys = await this.#byKey.keys({ gt: `${key}\0${pad(seq)}`, lt: `${key}\x01`, limit: 1 }).all()
    return keys.length === 0 ? undefined : await this._recordAt(seqOfIndexKey(keys[0] as string))
  }

  protected async _lastRecordOf (key: string): Promise<LogEntry | undefined> {
    const seq = await this._lastSeqOf(key)
    return seq === 0 ? undefined : await this._recordAt(seq)
  }

  protected async _reseed (): Promise<LogInfo> {
    // The embedded log lives in the replica's own database: they are lost together, never one without the other.
    throw new CredregError('RESEED_REFUSED', 'a standalone node keeps its change log in its own data directory: there is no separate log to reseed')
  }

  async #seqsOf (key: string): Promise<number[]> {
    const keys = await this.#byKey.keys({ gt: `${key}\0`, lt: `${key}\x01` }).all()
    return keys.map(seqOfIndexKey)
  }

  protected async _info (): Promise<LogInfo> {
    // In this process's own database: nothing on the network can forge it.
    return { identity: this.#identity, verified: true, lastSeq: this.#lastSeq, lineage: [], base: 1 }
  }

  protected async * _read (fromSeq: number, signal: AbortSignal): AsyncIterable<LogEntry[]> {
    // Listen before reading, so an append between a read and the wait is not missed.
    const wakeups = on(this.#appended, 'append', { signal, close: ['closed'] })
    let cursor = fromSeq
    try {
      while (!signal.aborted && this.status === 'open') {
        // Every record up to here is written before the read starts; one landing during the
        // read may be missing from it and must not be taken for a superseded one.
        const last = this.#lastSeq
        const rows = await this.#records.iterator({ gte: pad(cursor), limit: READ_BATCH }).all()
        if (rows.length > 0) {
          const entries = rows.map(([seq, value]) => stored(Number(seq), value))
          cursor = (entries.at(-1)?.seq ?? cursor) + 1
          yield entries
          continue
        }
        if (cursor > last) {
          const next = await wakeups.next()
          if (next.done === true) return
        } else {
          // The records in [cursor, last] were superseded and deleted: skip the gap.
          cursor = last + 1
        }
      }
    } catch (err) {
      if (signal.aborted) return
      throw err
    } finally {
      await wakeups.return?.()
    }
  }
}

/** A record as the log keeps it (its key or transaction id, and base64 data, as JSON) back as an entry. */
function stored (seq: number, value: string): LogEntry {
  const { key, transaction, data } = JSON.parse(value) as { key?: string, transaction?: string, data: string }
  return transaction === undefined ? { seq, key, data: Buffer.from(data, 'base64') } : { seq, key: undefined, transaction, data: Buffer.from(data, 'base64') }
}

function pad (seq: number): string {
  return String(seq).padStart(16, '0')
}

function seqOfIndexKey (indexKey: string): number {
  return Number(indexKey.slice(indexKey.lastIndexOf('\0') + 1))
}
