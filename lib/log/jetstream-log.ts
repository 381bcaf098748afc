/**
 * The change log on NATS JetStream: one stream per namespace, one subject per
 * key (`credreg.<namespace>.e.<key tokens>`), at most `maxPerKey` records per
 * subject, and one subject per transaction record (`credreg.<namespace>.tx.<id>`,
 * a single record each, so the per-subject limit never deletes one). A
 * conditional append is a publish with the expected last subject sequence
 * (a key's) or last stream sequence (a transaction's), so the NATS server
 * itself refuses a stale writer.
 */
import { NoRespondersError, PermissionViolationError, TimeoutError, type NatsConnection } from '@nats-io/nats-core'
import {
  DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, StorageType,
  type JetStreamClient, type JetStreamManager, type JsMsg, type StreamInfo
} from '@nats-io/jetstream'
import { randomUUID } from 'node:crypto'
import { CredregError } from '../errors.js'
import { keyToSubjectTokens, subjectTokensToKey } from '../key.js'
import type { Logger, NatsOptions } from '../types.js'
import {
  AbstractLog, StaleAppendError, SubjectRefusedError, type AppendOptions, type InfoOptions, type LogEntry, type LogInfo, type LogManifest, type ReseedFrom, type TransactionAppendOptions
} from './abstract-log.js'
import { inBatches } from './batches.js'
import { connectWithBackoff } from './connect.js'
import type { Authenticator } from '../authenticator.js'
import { maxRecordBytes } from '../records/record.js'
import { MAX_LINEAGE } from './identity-record.js'
import { unavailable } from './nats-errors.js'
import { StreamIdentity } from './stream-identity.js'

/** Options of {@link JetStreamLog}. */
export interface JetStreamLogOptions {
  nats: NatsOptions
  namespace: string
  /** Records kept per key (the stream's `max_msgs_per_subject`). */
  maxPerKey: number
  /** Stream replicas when the stream is created. */
  replicas: number
  /** Bound of one publish round trip. */
  publishTimeoutMs?: number
  /** Tags and verifies the stream's identity record. */
  authenticator: Authenticator
  /** Largest serialized value a node writes: sets the stream's largest message when this node creates it. */
  maxValueBytes: number
  /** Bytes the stream may hold (`max_bytes`); when full it refuses new records rather than drop old ones. Unlimited when absent. */
  maxBytes?: number
  /** Stamp each record read with the stream's own time of it (`LogEntry.loggedAt`), for stage timings. */
  timestamps?: boolean
  logger?: Logger
}

const READ_BATCH = 1000
// JetStream's err_code for "stream name already in use" (not in the client's table).
const STREAM_NAME_IN_USE = 10058
// A stream update refused (the NATS user may not update streams) is tried again this much later at the soonest:
// the stream's info is read every second, and each attempt is a refusal in the server's log.
const SUBJECT_UPDATE_RETRY_MS = 10 * 60_000

/** The stream API's answer to a message read. */
interface MsgGetAnswer {
  message?: { subject: string, seq: number, data?: string }
  error?: { code?: number, err_code?: number, description?: string }
}

/** Whether `err` is, or was caused by, an error of `type`. */
function causedBy (err: unknown, type: new (...args: never[]) => Error): boolean {
  for (let e = err; e instanceof Error; e = (e as Error).cause) {
    if (e instanceof type) return true
  }
  return false
}

/** Stream name of a namespace. */
export function streamName (namespace: string): string {
  return `CREDREG_${namespace}`
}

/** Subject prefix of a namespace's entity records (followed by the key tokens). */
export function entitySubjectPrefix (namespace: string): string {
  return `credreg.${namespace}.e.`
}

/** Subject prefix of a namespace's transaction records (followed by the transaction id). */
export function transactionSubjectPrefix (namespace: string): string {
  return `credreg.${namespace}.tx.`
}

export class JetStreamLog extends AbstractLog {
  readonly supports: LogManifest = { shared: true, reseed: true, recordLookup: true, conditionalAppend: { key: true, log: true } }
  readonly #options: JetStreamLogOptions
  readonly #stream: string
  readonly #prefix: string
  readonly #txPrefix: string
  readonly #identitySubject: string
  readonly #identity: StreamIdentity
  readonly #stop = new AbortController()
  #nc: NatsConnection | undefined
  #js: JetStreamClient | undefined
  #jsm: JetStreamManager | undefined
  #up = false
  // When adding the transaction subject to the stream was last refused.
  #subjectRefusedAt: number | undefined

  constructor (options: JetStreamLogOptions) {
    super()
    this.#options = options
    this.#stream = streamName(options.namespace)
    this.#prefix = entitySubjectPrefix(options.namespace)
    this.#txPrefix = transactionSubjectPrefix(options.namespace)
    this.#identitySubject = `credreg.${options.namespace}.identity`
    this.#identity = new StreamIdentity(this.#stream, this.#identitySubject, options.authenticator, {
      last: async () => await this.#lastBySubject(this.#identitySubject),
      after: async seq => await this.#nextBySubject(this.#identitySubject, seq)
    })
  }

  get connected (): boolean {
    return this.#up
  }

  override get server (): string | undefined {
    return this.#up ? this.#nc?.getServer() : undefined
  }

  protected async _open (): Promise<void> {
    // Never block open on the network: a node serves its replica while NATS
    // is unreachable and connects in the background.
    void this.#connect()
  }

  async #connect (): Promise<void> {
    const nc = await connectWithBackoff({ ...this.#options.nats }, this.#stop.signal, err => {
      this.#options.logger?.debug({ err }, 'NATS not reachable yet; retrying')
    })
    if (nc === undefined) return
    // Closed while the last attempt was settling: _close found nothing to close.
    if (this.#stop.signal.aborted) {
      await nc.close()
      return
    }
    this.#nc = nc
    this.#js = jetstream(nc, { timeout: this.#options.publishTimeoutMs ?? 2000 })
    this.#jsm = await jetstreamManager(nc, { checkAPI: false })
    void this.#followStatus(nc)
    this.#setUp(true)
  }

  async #followStatus (nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') this.#setUp(false)
      else if (s.type === 'reconnect') this.#setUp(true)
    }
    this.#setUp(false)
  }

  #setUp (up: boolean): void {
    if (this.#up === up) return
    this.#up = up
    this.#options.logger?.[up ? 'info' : 'warn']({ server: this.#nc?.getServer() }, up ? 'connected to NATS' : 'disconnected from NATS')
    this._emitConnection(up)
  }

  protected async _close (): Promise<void> {
    this.#stop.abort()
    this.#up = false
    await this.#nc?.close().catch(() => {})
  }

  #subject (key: string): string {
    return this.#prefix + keyToSubjectTokens(key)
  }

  #clients (): { js: JetStreamClient, jsm: JetStreamManager } {
    if (!this.#up || this.#js === undefined || this.#jsm === undefined) {
      throw new CredregError('UNAVAILABLE', 'NATS is not reachable; reads still work from the local replica')
    }
    return { js: this.#js, jsm: this.#jsm }
  }

  protected async _append (key: string, data: Uint8Array, { expectedLastSeq, msgId, timeoutMs }: AppendOptions): Promise<number> {
    return await this.#publish(this.#subject(key), key, data, { lastSubjectSequence: expectedLastSeq }, msgId, timeoutMs)
  }

  protected async _appendTransaction (id: string, data: Uint8Array, { expectedLogSeq, msgId, timeoutMs }: TransactionAppendOptions): Promise<number> {
    try {
      return await this.#publish(this.#txPrefix + id, `transaction ${id}`, data, expectedLogSeq === undefined ? {} : { lastSequence: expectedLogSeq }, msgId, timeoutMs)
    } catch (err) {
      // No stream took the record: the stream may be one that binds no transaction subject.
      if (!causedBy(err, NoRespondersError)) throw err
      const subjects = await this.#subjects()
      const wanted = `${this.#txPrefix}>`
      if (subjects === undefined || subjects.includes(wanted)) throw err
      throw new SubjectRefusedError(`changesets cannot be written: stream ${this.#stream} takes no record on ${wanted} (an earlier release created it, ` +
        'and this node\'s NATS user may not update the stream). Add the subject once, as a NATS user that may: ' +
        `nats stream edit ${this.#stream} --subjects '${[...subjects, wanted].join(',')}' (or open a node of this release under such a user); ` +
        'see "Upgrading" in docs/nats-permissions.md', { cause: err })
    }
  }

  /** The stream's subjects; `undefined` when they cannot be read now, or the stream does not exist (yet: the follower creates it). */
  async #subjects (): Promise<string[] | undefined> {
    try {
      const si = await this.#streamInfo(this.#clients().jsm)
      return si === undefined ? undefined : si.config.subjects ?? []
    } catch {
      return undefined
    }
  }

  async #publish (subject: string, what: string, data: Uint8Array, expect: { lastSubjectSequence?: number, lastSequence?: number }, msgId: string, timeoutMs: number | undefined): Promise<number> {
    const { js } = this.#clients()
    try {
      const ack = await js.publish(subject, data, { expect, msgID: msgId, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}) })
      return ack.seq
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) throw new StaleAppendError(what)
      if (causedBy(err, PermissionViolationError)) {
        const family = `${subject.startsWith(this.#txPrefix) ? this.#txPrefix : this.#prefix}>`
        throw new SubjectRefusedError(`${what}: this node's NATS user may not publish on ${subject}; allow it to publish on ${family} (docs/nats-permissions.md)`, { cause: err })
      }
      // No acknowledgement is not no record: the server may have stored it.
      if (err instanceof TimeoutError || (err as { cause?: unknown }).cause instanceof TimeoutError) {
        throw new CredregError('TIMEOUT', `${what}: the change log did not acknowledge the write in time; it may have been appended`, { cause: err })
      }
      throw unavailable(err, 'the write could not reach the change log')
    }
  }

  protected async _lastSeq (): Promise<number> {
    const si = await this.#streamInfo(this.#clients().jsm)
    if (si === undefined) throw new CredregError('LOG_DIVERGED', `stream ${this.#stream} does not exist`)
    return si.state.last_seq
  }

  protected async _lastSeqOf (key: string): Promise<number> {
    return (await this._lastRecordOf(key))?.seq ?? 0
  }

  protected async _recordAt (seq: number): Promise<LogEntry | undefined> {
    const { jsm } = this.#clients()
    try {
      const m = await jsm.streams.getMessage(this.#stream, { seq })
      return m === null ? undefined : this.#entry(m.seq, m.subject, m.data)
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined
      throw unavailable(err, 'the change log could not be read')
    }
  }

  protected async _recordAfter (key: string, seq: number): Promise<LogEntry | undefined> {
    const m = await this.#nextBySubject(this.#subject(key), seq)
    return m === undefined ? undefined : this.#entry(m.seq, m.subject, m.data)
  }

  /** The first record on `subject` after `seq`: the stream API's next-by-subject read (the client's typed call does not offer it). */
  async #nextBySubject (subject: string, seq: number): Promise<{ seq: number, subject: string, data: Uint8Array } | undefined> {
    this.#clients()
    const nc = this.#nc as NatsConnection
    let answer: MsgGetAnswer
    try {
      const request = JSON.stringify({ seq: seq + 1, next_by_subj: subject })
      const res = await nc.request(`$JS.API.STREAM.MSG.GET.${this.#stream}`, request, { timeout: this.#options.publishTimeoutMs ?? 2000 })
      answer = res.json<MsgGetAnswer>()
    } catch (err) {
      throw unavailable(err, 'the change log could not be read')
    }
    if (answer.error !== undefined) {
      if (answer.error.err_code === JetStreamApiCodes.NoMessageFound) return undefined
      throw new CredregError('UNAVAILABLE', `the change log could not be read: ${answer.error.description ?? `error ${answer.error.err_code ?? answer.error.code ?? '?'}`}`)
    }
    const m = answer.message
    if (m === undefined) return undefined
    return { seq: m.seq, subject: m.subject, data: m.data === undefined ? new Uint8Array() : Buffer.from(m.data, 'base64') }
  }

  async #lastBySubject (subject: string): Promise<{ seq: number, data: Uint8Array } | undefined> {
    const { jsm } = this.#clients()
    try {
      const m = await jsm.streams.getMessage(this.#stream, { last_by_subj: subject })
      return m === null ? undefined : { seq: m.seq, data: m.data }
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined
      throw unavailable(err, 'the change log could not be read')
    }
  }

  #entry (seq: number, subject: string, data: Uint8Array): LogEntry {
    // The identity record is not an entity record: only a reader's position moves past it,
    // and an authentic one that opens a history of tagged records says so to the replica.
    if (subject === this.#identitySubject) {
      const read = this.#identity.decode({ seq, data })
      return { seq, key: undefined, data, control: true, ...(read?.verified === true && read.record.authenticated === true ? { authenticatedHistory: true } : {}) }
    }
    if (subject.startsWith(this.#txPrefix)) return { seq, key: undefined, transaction: subject.slice(this.#txPrefix.length), data }
    const tokens = subject.startsWith(this.#prefix) ? subject.slice(this.#prefix.length) : ''
    return { seq, key: subjectTokensToKey(tokens), data }
  }

  protected async _lastRecordOf (key: string): Promise<LogEntry | undefined> {
    const m = await this.#lastBySubject(this.#subject(key))
    return m === undefined ? undefined : { ...m, key }
  }

  protected async _info ({ create, known }: InfoOptions): Promise<LogInfo> {
    const { jsm } = this.#clients()
    const si = create ? (await this.#ensureStream(jsm)).info : await this.#streamInfo(jsm)
    if (si === undefined) throw new CredregError('LOG_DIVERGED', `stream ${this.#stream} does not exist, but this replica was built from one`)
    await this.#takeTransactions(jsm, si)
    const { js } = this.#clients()
    // Only a stream without a single record may get a new history: one whose identity
    // record was pushed out (or forged over) keeps the history its replicas know.
    const at = await this.#identity.get(js, create && si.state.last_seq === 0)
    if (at === undefined) return { identity: undefined, verified: false, lastSeq: si.state.last_seq, lineage: [], base: 1 }
    const identity = this.#identity.name(at.record)
    if (!at.verified && identity === known) {
      // Made before identity records were tagged: a tagged copy makes any later untagged one count for nothing.
      if (await this.#identity.write(js, at.record, at.seq)) this.#options.logger?.info({ identity }, 'tagged the stream identity record')
    }
    return { identity, verified: at.verified, lastSeq: si.state.last_seq, lineage: at.record.lineage, base: at.record.base ?? 1 }
  }

  protected async _reseed (from: ReseedFrom): Promise<LogInfo> {
    const { js, jsm } = this.#clients()
    if ((await this.#ensureStream(jsm)).created) {
      // Ours and empty: sequences start above the old history's, then the identity names that history.
      try {
        await jsm.streams.purge(this.#stream, { seq: from.base })
      } catch (err) {
        throw unavailable(err, 'setting the first sequence of the reseeded stream failed')
      }
      const record = { id: randomUUID(), lineage: [from.identity, ...from.lineage].slice(0, MAX_LINEAGE), base: from.base, authenticated: true as const }
      if (await this.#identity.write(js, record, 0)) {
        this.#options.logger?.warn({ identity: this.#identity.name(record), continues: from.identity, base: from.base }, 'reseeded the change log: a new history continuing the old one')
        return await this._info({ create: false })
      }
    }
    // The stream exists (perhaps created by another node a moment ago): taken on if it
    // continues this history (another node reseeded first), never changed otherwise.
    const current = await this.#identity.await()
    if (current === undefined) throw new CredregError('UNAVAILABLE', `stream ${this.#stream} exists but has no identity record; try again`)
    if (current.verified && current.record.lineage.includes(from.identity)) return await this._info({ create: false })
    throw new CredregError('RESEED_REFUSED', `stream ${this.#stream} exists, with the history ${this.#identity.name(current.record)}, which does not continue ${from.identity}: ` +
      'a reseed only creates a missing stream, it never changes an existing one. If that stream\'s records are to be dropped (after a partial loss, ' +
      `the replicas hold what it holds), delete it (nats stream rm ${this.#stream}) and reseed again`)
  }

  /**
   * A stream created by an earlier release binds no transaction subject:
   * its changesets would reach no stream. Adds the subject once (a stream
   * update is idempotent); a NATS user not allowed to update the stream
   * leaves it as it is, and changesets then fail with a message saying so.
   */
  async #takeTransactions (jsm: JetStreamManager, si: StreamInfo): Promise<void> {
    const subjects = si.config.subjects ?? []
    const wanted = `${this.#txPrefix}>`
    if (subjects.includes(wanted)) return
    if (this.#subjectRefusedAt !== undefined && Date.now() - this.#subjectRefusedAt < SUBJECT_UPDATE_RETRY_MS) return
    try {
      await jsm.streams.update(this.#stream, { subjects: [...subjects, wanted] })
      this.#subjectRefusedAt = undefined
      this.#options.logger?.info({ stream: this.#stream, subject: wanted }, 'the stream now takes changesets')
    } catch (err) {
      this.#subjectRefusedAt = Date.now()
      this.#options.logger?.warn({ err, stream: this.#stream, subject: wanted }, 'could not add the changeset subject to the stream: changesets are refused until it is added')
    }
  }

  /** The stream's info, `undefined` when it does not exist. */
  async #streamInfo (jsm: JetStreamManager): Promise<StreamInfo | undefined> {
    try {
      return await jsm.streams.info(this.#stream)
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined
      throw unavailable(err, 'stream info failed')
    }
  }

  /**
   * The stream, created when it does not exist: its info, and whether this
   * call created it (a reseed may only set up a stream it made itself; when
   * another node created it a moment before, theirs is taken as it is).
   */
  async #ensureStream (jsm: JetStreamManager): Promise<{ info: StreamInfo, created: boolean }> {
    // Looked up first: adding a stream that exists with the same config succeeds, and would pass for a creation.
    const existing = await this.#streamInfo(jsm)
    if (existing !== undefined) return { info: existing, created: false }
    try {
      return { info: await jsm.streams.add(this.#config()), created: true }
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) return { info: await jsm.streams.info(this.#stream), created: false }
      throw unavailable(err, `the stream ${this.#stream} could not be created`)
    }
  }

  #config (): Parameters<JetStreamManager['streams']['add']>[0] {
    return {
      name: this.#stream,
      subjects: [`${this.#prefix}>`, `${this.#txPrefix}>`, this.#identitySubject],
      max_msgs_per_subject: this.#options.maxPerKey,
      // The server refuses what no honest writer sends, before it takes any room.
      max_msg_size: maxRecordBytes(this.#options.maxValueBytes),
      ...(this.#options.maxBytes !== undefined ? { max_bytes: this.#options.maxBytes } : {}),
      storage: StorageType.File,
      num_replicas: this.#options.replicas,
      // Full (max_bytes): refuse new records rather than drop old ones a replica may still need.
      // The per-subject limit still drops a key's superseded records.
      discard: this.#options.maxBytes !== undefined ? DiscardPolicy.New : DiscardPolicy.Old
    }
  }

  protected async * _read (fromSeq: number, signal: AbortSignal): AsyncIterable<LogEntry[]> {
    const { js } = this.#clients()
    const consumer = await js.consumers.get(this.#stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq })
    const messages = await consumer.consume({ max_messages: READ_BATCH })
    const entry = this.#options.timestamps !== true
      ? (m: JsMsg): LogEntry => this.#entry(m.seq, m.subject, m.data)
      : (m: JsMsg): LogEntry => Object.assign(this.#entry(m.seq, m.subject, m.data), { loggedAt: m.info.timestampNanos / 1e6 })
    yield * inBatches(messages, entry, READ_BATCH, signal, err => unavailable(err, 'reading the stream failed'))
  }
}
