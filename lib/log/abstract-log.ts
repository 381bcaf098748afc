/**
 * The change log contract. `AbstractLog` owns argument checks, lifecycle and
 * status; backends (`LocalLog`, `JetStreamLog`) implement only the private
 * `_open`, `_append`, `_appendTransaction`, `_lastSeq`, `_lastSeqOf`, `_recordAt`, `_recordAfter`, `_lastRecordOf`, `_reseed`, `_info`, `_read`
 * and `_close`.
 *
 * Semantics shared by every backend (and checked by one conformance suite):
 * - sequences start at 1 and only grow; a per-key limit deletes superseded
 *   records, so reads may skip sequences (gaps are normal);
 * - `append` is conditional: it lands only if the key's latest record is still
 *   at `expectedLastSeq` (0: the key has no record), else `StaleAppendError`;
 * - `appendTransaction` puts a record of several keys (a changeset) on a
 *   subject of its own, one record per id, which the per-key limit never
 *   deletes; it may be conditional on the log's last sequence;
 * - `identity` names one history: a log deleted and recreated has a new one;
 *   a log restored from a replica (`reseed`) has a new one that names the
 *   old one in its `lineage`.
 */
import { CredregError } from '../errors.js'
import { assertKey } from '../key.js'
import type { Status } from '../types.js'

/** One record as read from the log. */
export interface LogEntry {
  seq: number
  /** The key of the subject, or `undefined` when the subject maps to no valid key (or is a transaction's). */
  key: string | undefined
  /** The id of a transaction record (a changeset), from its subject. */
  transaction?: string
  data: Uint8Array
  /** The log's own bookkeeping (its identity record): not applied, but the reader's position moves past it. */
  control?: boolean
  /** On a control entry: an authentic identity record of a history whose records are all tagged (schema 1 never counts from here). */
  authenticatedHistory?: boolean
  /** When the log stored it, in milliseconds since the epoch: on a read of a log asked for `timestamps` that keeps them. */
  loggedAt?: number
}

/** Where the log stands. */
export interface LogInfo {
  /**
   * Names this history; changes when the log is deleted and recreated.
   * `undefined` when the log holds no identity record that can be read.
   */
  identity: string | undefined
  /**
   * Whether the identity record's tag holds under the namespace key. An
   * unverified identity (a stream made before tags, or whose record was
   * pushed out) is never grounds to refuse the log.
   */
  verified: boolean
  /** Sequence of the newest record (0 for an empty log). */
  lastSeq: number
  /** Identities of earlier histories this one continues (a reseed), newest first. */
  lineage: string[]
  /** The first sequence of this history (1 unless it is a reseed). */
  base: number
}

/** The history a reseed continues: the identity a replica was built from, and that one's own lineage. */
export interface ReseedFrom {
  identity: string
  lineage: string[]
  /** The first sequence of the new history: above every sequence of the old one that any replica applied. */
  base: number
}

/** Options of {@link AbstractLog.append}. */
export interface AppendOptions {
  /** Sequence of the key's latest record the writer saw (0: none). */
  expectedLastSeq: number
  /** Deduplication id: the same id appended twice lands once. */
  msgId: string
  /**
   * How long to wait for the log's acknowledgement (the backend's default
   * when absent). Past it the append fails `TIMEOUT`: the record may have
   * landed, and the same `msgId` appended again lands it at most once.
   */
  timeoutMs?: number
}

/** Options of {@link AbstractLog.appendTransaction}. */
export interface TransactionAppendOptions {
  /**
   * Append only if the log's last sequence is still this one (nothing at all
   * was appended since the writer's view); absent: unconditional.
   */
  expectedLogSeq?: number
  /** Deduplication id: the same id appended twice lands once. */
  msgId: string
  /** As {@link AppendOptions.timeoutMs}. */
  timeoutMs?: number
}

/** Options of {@link AbstractLog.info}. */
export interface InfoOptions {
  /**
   * Create the log when it does not exist. Only a node whose replica is empty
   * may: one built from a log that has vanished must notice, not start over.
   */
  create: boolean
  /**
   * The identity the caller's replica was built from: a log whose identity
   * record predates tags and names this one stamps a tagged copy of it.
   */
  known?: string
}

/** The key's (or the log's) latest record is not at the expected sequence: someone wrote first. */
export class StaleAppendError extends Error {
  constructor (what: string) {
    super(`${what}: the latest record is not at the expected sequence`)
    this.name = 'StaleAppendError'
  }
}

/**
 * The log takes no record on this subject: no stream binds it (a stream
 * created by an earlier release has no transaction subject), or this node's
 * NATS user may not publish on it. Nothing was appended, and trying again
 * changes nothing until an operator changes the stream or the permissions,
 * so a writer fails at once (`UNAVAILABLE`) instead of retrying until its deadline.
 */
export class SubjectRefusedError extends CredregError {
  constructor (message: string, options?: ErrorOptions) {
    super('UNAVAILABLE', message, options)
    this.name = 'SubjectRefusedError'
  }
}

/**
 * What a log can do beyond the common contract, as abstract-level's
 * `supports`: the node and the conformance suite read it rather than ask
 * which backend a log is. Fields are added as backends come to differ.
 */
export interface LogManifest {
  /**
   * Records live outside this process, in one log that every node of the
   * namespace appends to and reads (cluster mode). False: the log is this
   * node's own, in its own data directory (standalone).
   */
  shared: boolean
  /**
   * `reseed` can restore the log from a replica. Only a log kept apart from
   * the replica can be lost without it; without this, `reseed` is refused
   * with `RESEED_REFUSED`.
   */
  reseed: boolean
  /**
   * Records can be read back one at a time, by sequence and by key
   * (`recordAt`, `recordAfter`, `lastRecordOf`): what a writer settles an
   * unanswered append with, and what a follower checks its position against.
   */
  recordLookup: boolean
  /**
   * What appends can be conditional on: a key's append on the latest
   * sequence of that key's subject (`key`); a transaction's on the log's
   * last sequence (`log`). Both backends check both.
   */
  conditionalAppend: { key: boolean, log: boolean }
}

/** Notified when the log becomes usable or unusable for writes. */
export type ConnectionListener = (connected: boolean) => void

export abstract class AbstractLog {
  #status: Status = 'closed'
  #listeners = new Set<ConnectionListener>()
  abstract readonly supports: LogManifest

  get status (): Status {
    return this.#status
  }

  /** Whether appends can reach the log right now. */
  abstract get connected (): boolean

  /** The server a shared log is reached through right now, for status; `undefined` for a log in this process, or while unreachable. */
  get server (): string | undefined {
    return undefined
  }

  async open (): Promise<void> {
    if (this.#status !== 'closed') throw new TypeError(`cannot open a log that is ${this.#status}`)
    this.#status = 'opening'
    try {
      await this._open()
    } catch (err) {
      this.#status = 'closed'
      throw err
    }
    this.#status = 'open'
  }

  async close (): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'closing') return
    this.#status = 'closing'
    try {
      await this._close()
    } finally {
      this.#status = 'closed'
      this.#listeners.clear()
    }
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }

  /** Appends `data` under `key` if the key's latest record is at `expectedLastSeq`; resolves with the new sequence. */
  async append (key: string, data: Uint8Array, options: AppendOptions): Promise<number> {
    this.#assertOpen()
    assertKey(key)
    if (!Number.isSafeInteger(options.expectedLastSeq) || options.expectedLastSeq < 0) {
      throw new TypeError('expectedLastSeq must be a non-negative integer')
    }
    return await this._append(key, data, options)
  }

  /**
   * Appends a transaction record (`id`: a uuid, its subject's name) if the
   * log's last sequence is `expectedLogSeq` (when given); resolves with its
   * sequence, rejects with `StaleAppendError` when the log moved on.
   */
  async appendTransaction (id: string, data: Uint8Array, options: TransactionAppendOptions): Promise<number> {
    this.#assertOpen()
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new TypeError('a transaction id must be a lowercase uuid')
    const { expectedLogSeq } = options
    if (expectedLogSeq !== undefined && (!Number.isSafeInteger(expectedLogSeq) || expectedLogSeq < 0)) {
      throw new TypeError('expectedLogSeq must be a non-negative integer')
    }
    return await this._appendTransaction(id, data, options)
  }

  /** The log's last sequence (0 for an empty log). */
  async lastSeq (): Promise<number> {
    this.#assertOpen()
    return await this._lastSeq()
  }

  /** Sequence of the key's latest record, 0 when it has none. */
  async lastSeqOf (key: string): Promise<number> {
    this.#assertOpen()
    assertKey(key)
    return await this._lastSeqOf(key)
  }

  /** The record at `seq`, `undefined` when there is none (never written, or superseded and deleted). */
  async recordAt (seq: number): Promise<LogEntry | undefined> {
    this.#assertOpen()
    if (!Number.isSafeInteger(seq) || seq < 1) throw new TypeError('seq must be a positive integer')
    return await this._recordAt(seq)
  }

  /** The key's first record after sequence `seq`, `undefined` when it has none (left). */
  async recordAfter (key: string, seq: number): Promise<LogEntry | undefined> {
    this.#assertOpen()
    assertKey(key)
    if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('seq must be a non-negative integer')
    return await this._recordAfter(key, seq)
  }

  /** The key's latest record, `undefined` when it has none. */
  async lastRecordOf (key: string): Promise<LogEntry | undefined> {
    this.#assertOpen()
    assertKey(key)
    return await this._lastRecordOf(key)
  }

  /**
   * Starts a new history that continues `from`, for a replica to restore the
   * register into after the log lost its store: creates the log, with
   * sequences from `from.base`. Resolves with the new info; when another node
   * already did so for the same history, with theirs. Throws `RESEED_REFUSED`
   * when the log exists with another history: a reseed never changes an
   * existing log.
   */
  async reseed (from: ReseedFrom): Promise<LogInfo> {
    this.#assertOpen()
    return await this._reseed(from)
  }

  /** Identity and last sequence; throws `LOG_DIVERGED` when the log is missing and `create` is false. */
  async info (options: InfoOptions = { create: false }): Promise<LogInfo> {
    this.#assertOpen()
    return await this._info(options)
  }

  /** Resolves once {@link connected} is true; rejects when `signal` aborts. */
  async whenConnected (signal: AbortSignal): Promise<void> {
    if (this.connected) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        off()
        signal.removeEventListener('abort', abort)
      }
      const abort = (): void => {
        done()
        reject(signal.reason)
      }
      const off = this.onConnection(up => {
        if (up) {
          done()
          resolve()
        }
      })
      signal.addEventListener('abort', abort, { once: true })
    })
  }

  /**
   * Records from `fromSeq` on, in order, in batches of what is ready. The
   * iteration ends (without error) when the backend loses its position, e.g.
   * on a reconnect; the reader then checks `info()` and reads again from its
   * own cursor. Ends when `signal` aborts.
   */
  read (fromSeq: number, signal: AbortSignal): AsyncIterable<LogEntry[]> {
    this.#assertOpen()
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new TypeError('fromSeq must be a positive integer')
    return this._read(fromSeq, signal)
  }

  /** Calls `listener` whenever {@link connected} changes; returns the unsubscribe function. */
  onConnection (listener: ConnectionListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  protected _emitConnection (connected: boolean): void {
    for (const listener of this.#listeners) listener(connected)
  }

  #assertOpen (): void {
    if (this.#status !== 'open') throw new CredregError('CLOSED', `the change log is ${this.#status}`)
  }

  protected abstract _open (): Promise<void>
  protected abstract _append (key: string, data: Uint8Array, options: AppendOptions): Promise<number>
  protected abstract _appendTransaction (id: string, data: Uint8Array, options: TransactionAppendOptions): Promise<number>
  protected abstract _lastSeq (): Promise<number>
  protected abstract _lastSeqOf (key: string): Promise<number>
  protected abstract _recordAt (seq: number): Promise<LogEntry | undefined>
  protected abstract _recordAfter (key: string, seq: number): Promise<LogEntry | undefined>
  protected abstract _lastRecordOf (key: string): Promise<LogEntry | undefined>
  protected abstract _reseed (from: ReseedFrom): Promise<LogInfo>
  protected abstract _info (options: InfoOptions): Promise<LogInfo>
  protected abstract _read (fromSeq: number, signal: AbortSignal): AsyncIterable<LogEntry[]>
  protected abstract _close (): Promise<void>
}
