/**
 * The local replica: applies log records strictly in log order, one LevelDB
 * batch per run of records, each batch carrying the new applied sequence, so
 * a crash at any instant leaves a replica that resumes from applied + 1.
 */
import { EventEmitter } from 'node:events'
import type { Authenticator } from '../authenticator.js'
import { CredregError } from '../errors.js'
import { HostAccess } from '../identity/host-access.js'
import { POLICY_KEY, PolicyInForce } from '../identity/policy.js'
import { verifyRecordAsync, type RecordSignature } from '../identity/signature.js'
import type { SigningKey } from '../identity/signing-key.js'
import type { KeyRing } from '../key-ring.js'
import { buildRecord, LEGACY_SCHEMA_VERSION, RECORD_SCHEMA_VERSION, sealContextOf, type LogRecord, type ReadRecord } from '../records/record.js'
import type { SealContext } from '../seal.js'
import type { Entity, JsonObject, ListOptions, ListPage, Logger } from '../types.js'
import { isJsonObject } from '../value.js'
import type { LogEntry } from '../log/abstract-log.js'
import { decodeEntry, type EntryRead } from '../records/decode-entry.js'
import type { RotationEvent } from '../shapes/rotation.js'
import { changeSealContext } from '../records/transaction-record.js'
import { NO_STATE, verdict, type Refusal, type StateInForce, type Verdict, type VerdictContext } from '../verdict.js'
import { ApplyBatch, storedVersionOf, type AppliedChange } from './apply-batch.js'
import { BatchState } from './batch-state.js'
import { AUDIT_PRUNE_EVERY, AUDIT_WINDOW, auditEntryOf, readAudit, type AuditQuery } from './audit.js'
import type { AuditPage } from '../shapes/audit.js'
import { historyKey, historyRange, openStore, seqKey, type Db, type Store, type StoredEntity, type StoredRotation, type StoredVersion } from './store.js'

export type { AppliedChange } from './apply-batch.js'

export interface ReplicaOptions {
  db: Db
  namespace: string
  /** The data keys this host holds: the namespace's and those of the read scopes it reads. */
  keys: KeyRing
  authenticator: Authenticator
  /** The host key: signs what this host writes once a policy is in force. */
  hostKey: SigningKey
  historyDepth: number
  /** Entities a list page reads at most (tombstones included) before it answers with what it has and a cursor. */
  listScanLimit?: number
  logger?: Logger
}

interface Waiter { seq: number, resolve: () => void }

/** A run decoded, its signatures being checked: what {@link Replica.prepare} hands to {@link Replica.apply}. */
export interface PreparedRun {
  entries: LogEntry[]
  reads: Array<EntryRead | undefined>
  verified: Promise<void>
}

// A writer asks about its own record within milliseconds of its apply; a catch-up of more
// records than this in between sends it to the log instead.
const OUTCOMES_KEPT = 16_384
const LIST_SCAN_LIMIT = 10_000
// A run this small (a live write) is verified inline by the verdict: a trip through the thread pool costs more.
const VERIFY_AHEAD_MIN = 4

export class Replica extends EventEmitter<{ applied: [AppliedChange[]], rotations: [RotationEvent[]] }> {
  readonly store: Store
  readonly namespace: string
  /** Tags the records this replica's node writes or contributes. */
  readonly authenticator: Authenticator
  /** What this host may do and can open under the policy in force: its keys, its grant. */
  readonly access: HostAccess
  #policy: PolicyInForce | undefined
  readonly #scanLimit: number
  readonly #depth: number
  readonly #logger: Logger | undefined
  #appliedSeq = 0
  #liveCount = 0
  #resyncHorizon = 0
  #identity: string | undefined
  #lineage: string[] = []
  #rebaseUntil = 0
  #rebaseFrom = 0
  #auditPrunedAt = 0
  // What every record is decided with (lib/verdict.ts). `legacy`: until the log's first authenticated
  // record, schema 1 records still count.
  readonly #verdict: VerdictContext
  #waiters: Waiter[] = []
  readonly rejected: Partial<Record<Refusal, number>> = {}
  // Whether each of the latest records read was applied or refused, so a writer can tell what became of its own.
  readonly #outcomes = new Map<number, boolean>()
  // A point read of one small value is a few microseconds in LevelDB's caches, far less than
  // the round trip through libuv's thread pool that an async get costs, so reads go direct.
  readonly #sync: boolean

  constructor ({ db, namespace, keys, authenticator, hostKey, historyDepth, listScanLimit, logger }: ReplicaOptions) {
    super()
    this.setMaxListeners(0)
    this.store = openStore(db)
    this.#sync = 'getSync' in db.supports && db.supports.getSync === true
    this.namespace = namespace
    this.access = new HostAccess({ keys, hostKey, authenticator, policy: () => this.#policy })
    this.authenticator = authenticator
    this.#verdict = { namespace, authenticator, sealer: keys.primary, legacy: true }
    this.#scanLimit = listScanLimit ?? LIST_SCAN_LIMIT
    this.#depth = historyDepth
    this.#logger = logger
  }

  get appliedSeq (): number { return this.#appliedSeq }
  get liveCount (): number { return this.#liveCount }
  get identity (): string | undefined { return this.#identity }
  /** The identities the replica's history continues (after reseeds), newest first. */
  get lineage (): string[] { return this.#lineage }
  /**
   * While above the applied sequence: the replica is reading a reseeded log up
   * to this sequence to take it on, and must not be written through yet.
   */
  get rebaseUntil (): number { return this.#rebaseUntil }
  /** A watcher resuming below this sequence may have lost changes to retention. */
  get resyncHorizon (): number { return this.#resyncHorizon }
  /** The policy in force after the applied sequence (`undefined`: open mode). */
  get policy (): PolicyInForce | undefined { return this.#policy }

  async load (): Promise<void> {
    const [applied, identity, live, horizon, lineage, rebaseUntil, rebaseFrom, authenticatedFrom] = await this.store.meta.getMany([
      'appliedSeq', 'identity', 'liveCount', 'resyncHorizon', 'lineage', 'rebaseUntil', 'rebaseFrom', 'authenticatedFrom'
    ])
    this.#appliedSeq = Number(applied ?? 0)
    this.#identity = identity
    this.#lineage = lineage === undefined ? [] : JSON.parse(lineage) as string[]
    this.#rebaseUntil = Number(rebaseUntil ?? 0)
    this.#rebaseFrom = Number(rebaseFrom ?? 0)
    this.#liveCount = Number(live ?? 0)
    this.#resyncHorizon = Number(horizon ?? 0)
    this.#verdict.legacy = authenticatedFrom === undefined
    const policy = await this.store.entities.get(POLICY_KEY)
    this.#policy = policy?.policy === undefined ? undefined : new PolicyInForce(policy.version, policy.policy)
  }

  async setIdentity (identity: string, lineage: string[] = []): Promise<void> {
    await this.store.meta.batch([
      { type: 'put', key: 'identity', value: identity },
      { type: 'put', key: 'lineage', value: JSON.stringify(lineage) }
    ])
    this.#identity = identity
    this.#lineage = lineage
  }

  /**
   * Moves the replica onto a reseeded log: a new history that continues its
   * own, whose sequences all lie above the replica's applied one. Nothing
   * the replica holds changes: its sequences stay those at which it applied
   * each version (its own timeline, which watchers resume from). Reading the
   * new log up to `until` then records, for the versions the replica already
   * holds, where their records now are (no change events: nothing changed),
   * and applies the versions it lacks as usual. Writes wait until then.
   */
  async rebase (identity: string, lineage: string[], until: number): Promise<void> {
    const from = this.#appliedSeq + 1
    await this.store.meta.batch([
      { type: 'put', key: 'identity', value: identity },
      { type: 'put', key: 'lineage', value: JSON.stringify(lineage) },
      { type: 'put', key: 'rebaseFrom', value: String(from) },
      { type: 'put', key: 'rebaseUntil', value: String(until) }
    ])
    this.#identity = identity
    this.#lineage = lineage
    this.#rebaseFrom = from
    this.#rebaseUntil = until
  }

  /**
   * Decodes a run and starts checking its signatures, ahead of its apply: the
   * follower prepares the next run while one applies. Both are pure
   * functions of the records; the verdict takes them as it would compute them.
   */
  prepare (entries: LogEntry[]): PreparedRun {
    // Decoded first: a changeset or a release names its keys only inside the records.
    const reads = entries.map(e => (e.control === true ? undefined : decodeEntry(e, this.namespace)))
    const verified = this.#verifyAhead(reads)
    // Awaited by the apply; until then a failure must not count as unhandled.
    verified.catch(() => {})
    return { entries, reads, verified }
  }

  /** Applies `run` (ascending sequences above the applied one, or a run {@link prepare}d) in one atomic batch. */
  async apply (run: LogEntry[] | PreparedRun): Promise<void> {
    const { entries, reads: all, verified } = Array.isArray(run) ? this.prepare(run.filter(e => e.seq > this.#appliedSeq)) : run
    const from = entries.findIndex(e => e.seq > this.#appliedSeq)
    if (from === -1) return
    const fresh = entries.slice(from)
    const reads = all.slice(from)
    const last = fresh.at(-1) as LogEntry
    const [state] = await Promise.all([BatchState.load(this.store, reads, this.#sync, this.#policy), verified])
    const batch = new ApplyBatch(this.store, this.#depth, { live: this.#liveCount, horizon: this.#resyncHorizon })
    const rotationEvents: RotationEvent[] = []
    fresh.forEach((entry, i) => {
      const read = reads[i]
      if (read !== undefined) {
        const event = this.#decide(entry, read, state, batch)
        if (event !== undefined) rotationEvents.push(event)
      } else if (entry.authenticatedHistory === true) {
        this.#authenticatedFrom(entry.seq, batch)
      }
    })
    await this.#commit(batch, last.seq, rotationEvents)
    this.#policy = state.policy()
    if (last.seq - this.#auditPrunedAt >= AUDIT_PRUNE_EVERY) {
      this.#auditPrunedAt = last.seq
      await this.store.audit.clear({ lt: seqKey(Math.max(0, last.seq - AUDIT_WINDOW)) })
    }
  }

  /** A page of the audit trail (lib/replica/audit.ts). */
  async audit (query: AuditQuery): Promise<AuditPage> {
    return await readAudit(this.store, query)
  }

  // Under a policy every record's signature is checked: a run's all at once on the thread
  // pool, while the run's state loads (and the run before applies), rather than one after
  // another in the verdict. Whether a policy will be in force is known only at the apply;
  // records are signed only under one.
  async #verifyAhead (reads: Array<EntryRead | undefined>): Promise<void> {
    const signed = reads.filter((r): r is EntryRead & { ok: true } => r?.ok === true && (r.record as { sig?: unknown }).sig !== undefined)
    if (signed.length < VERIFY_AHEAD_MIN) return
    await Promise.all(signed.map(async r => { r.verified = await verifyRecordAsync(r.record as { sig: RecordSignature }) }))
  }

  /** Decides one record (lib/verdict.ts) and adds what it changes to `batch`; `state` moves with it. */
  #decide (entry: LogEntry, read: EntryRead, state: BatchState, batch: ApplyBatch): RotationEvent | undefined {
    const decided = verdict(entry, state, this.#verdict, read)
    if (decided.record !== undefined && decided.record.v !== LEGACY_SCHEMA_VERSION) this.#authenticatedFrom(entry.seq, batch)
    // Before the record moves the state: a release's entry names the keys its rotation staged.
    if (decided.record !== undefined) batch.audit(auditEntryOf(entry.seq, decided.record, decided.applied ? 'applied' : decided.reason, decided.signer, state))
    if (decided.applied) {
      this.#remember(entry.seq, true)
      return state.apply(entry.seq, decided.record, batch, decided.signer)
    }
    const { record } = decided
    const prev = record === undefined || !('key' in record) ? undefined : state.entity(record.key)
    const taken = decided.reason === 'stale-version' && this.#rebaseUntil > 0 && prev !== undefined && record !== undefined && 'key' in record
      ? this.#takeOn(batch, entry, record, prev)
      : 'refuse'
    if (typeof taken === 'object') {
      state.setEntity(taken.key, taken.entity)
      this.#remember(entry.seq, true)
    } else if (taken === 'refuse') {
      this.#reject(entry, decided.reason, decided.detail, decided.signer)
    }
    return undefined
  }

  // The log holds authenticated records from `seq` on (its first tagged record, or the
  // identity of a history of tagged records): unauthenticated ones never count again.
  #authenticatedFrom (seq: number, batch: ApplyBatch): void {
    if (!this.#verdict.legacy) return
    this.#verdict.legacy = false
    batch.meta('authenticatedFrom', String(seq))
  }

  /** Writes the batch with the applied sequence it reaches, then tells waiters and listeners. */
  async #commit (batch: ApplyBatch, lastSeq: number, rotationEvents: RotationEvent[]): Promise<void> {
    const { live, horizon } = batch.counters
    const rebaseUntil = this.#rebaseUntil > lastSeq ? this.#rebaseUntil : 0
    batch.meta('appliedSeq', String(lastSeq))
    batch.meta('liveCount', String(live))
    batch.meta('resyncHorizon', String(horizon))
    batch.meta('rebaseUntil', String(rebaseUntil))
    await this.store.db.batch<string, unknown>(batch.ops, {})
    this.#appliedSeq = lastSeq
    this.#rebaseUntil = rebaseUntil
    this.#liveCount = live
    this.#resyncHorizon = horizon
    const { applied } = batch
    for (const change of applied) {
      const { version, seq, op, meta } = change.stored
      this.#logger?.debug({ key: change.key, version, seq, op, correlationId: meta.correlationId }, 'applied')
    }
    if (applied.length > 0) this.emit('applied', applied)
    if (rotationEvents.length > 0) this.emit('rotations', rotationEvents)
    this.#wake()
  }

  // An authentic record of a reseeded log under a version the replica already
  // holds. Its latest version, met for the first time in this log: the entity
  // notes where its record now is, so writes build on it. An older version:
  // nothing to note. A second record under the latest version (which every
  // replica refuses as stale, having applied the first): refused.
  #takeOn (batch: ApplyBatch, entry: LogEntry, record: ReadRecord, prev: StoredEntity): { key: string, entity: StoredEntity } | 'skip' | 'refuse' {
    if (record.version < prev.version) return 'skip'
    if ((prev.logSeq ?? prev.seq) >= this.#rebaseFrom) return 'refuse'
    // The reseeded log holds every version as a key's own record: the key's subject ends here.
    const { subjectSeq: _, ...held } = prev
    let entity: StoredEntity = { ...held, logSeq: entry.seq }
    if (record.meta.correlationId !== prev.meta.correlationId) {
      // Two different writes under one version: only possible when a log lost records
      // that were then written over. The log's record stands, as on every replica.
      this.#logger?.error({ key: record.key, version: record.version, kept: record.meta.correlationId, dropped: prev.meta.correlationId }, 'a reseeded log holds another write under a version this replica has')
      const stored = storedVersionOf(prev.seq, record)
      entity = { ...stored, retained: prev.retained, pruned: prev.pruned, logSeq: entry.seq }
      batch.ops.push({ type: 'put', key: historyKey(record.key, record.version), value: stored, sublevel: this.store.history })
    }
    batch.ops.push({ type: 'put', key: record.key, value: entity, sublevel: this.store.entities })
    return { key: record.key, entity }
  }

  /**
   * What became of the record at `seq`: `true` applied, `false` refused,
   * `undefined` never read here (the log's per-key limit deleted it first) or
   * too long ago to remember.
   */
  outcomeOf (seq: number): boolean | undefined {
    return this.#outcomes.get(seq)
  }

  #remember (seq: number, applied: boolean): void {
    this.#outcomes.set(seq, applied)
    if (this.#outcomes.size > OUTCOMES_KEPT) this.#outcomes.delete(this.#outcomes.keys().next().value as number)
  }

  #reject (entry: LogEntry, reason: Refusal, detail: string, signer: string | undefined): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1
    this.#remember(entry.seq, false)
    this.#logger?.warn({ seq: entry.seq, key: entry.key, transaction: entry.transaction, reason, detail, ...(signer !== undefined ? { signer } : {}) }, 'rejected a log record')
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

  /**
   * The state in force after the applied sequence for the record `read` (the
   * keys and rotation it names), with that sequence: what a writer checks its
   * own record against, with the replica's own verdict, before appending it.
   */
  async stateFor (read: EntryRead): Promise<{ appliedSeq: number, state: StateInForce }> {
    for (;;) {
      const appliedSeq = this.#appliedSeq
      const state = await BatchState.load(this.store, [read], this.#sync, this.#policy)
      if (this.#appliedSeq === appliedSeq) return { appliedSeq, state }
    }
  }

  /** A verdict on `entry` as this replica would decide it in `state`. */
  judge (entry: LogEntry, state: StateInForce): Verdict {
    return verdict(entry, state, this.#verdict)
  }

  /**
   * A verdict on `entry` judged on its own (its authenticity and values, no
   * key's state) under the policy this replica holds: for a record it never
   * read, in a log that holds authenticated records.
   */
  judgeAlone (entry: LogEntry): Verdict {
    return verdict(entry, { ...NO_STATE, policy: () => this.#policy }, { ...this.#verdict, legacy: false })
  }

  /** A rotation as this replica holds it. */
  async rotation (id: string): Promise<StoredRotation | undefined> {
    return await this.store.rotations.get(id)
  }

  /**
   * The open rotations, oldest first. Read through the index of staged keys
   * (every open rotation stages at least one key), so closed rotations,
   * which the replica keeps, cost nothing here.
   */
  async openRotations (): Promise<StoredRotation[]> {
    const ids = [...new Set(await this.store.staged.values().all())]
    const rotations = await this.store.rotations.getMany(ids)
    return rotations.filter((r): r is StoredRotation => r?.status === 'staged').sort((a, b) => a.seq - b.seq)
  }

  /**
   * The latest stored version of each of `keys`, all as of one applied
   * sequence: the state a changeset is built on, and the log position its
   * append is conditional on.
   */
  async view (keys: string[]): Promise<{ appliedSeq: number, heads: Array<StoredEntity | undefined> }> {
    if (this.#sync) return { appliedSeq: this.#appliedSeq, heads: keys.map(k => this.store.entities.getSync(k)) }
    for (;;) {
      const appliedSeq = this.#appliedSeq
      const heads = await this.store.entities.getMany(keys)
      // An apply landed during the read: read again, so state and position agree.
      if (this.#appliedSeq === appliedSeq) return { appliedSeq, heads }
    }
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

  /**
   * Opens the sealed value of a stored version (`undefined` for a delete).
   * Every value applied under the verdict is a JSON object; one stored by an
   * earlier release may not be, and is reported without quoting it.
   */
  unseal (key: string, stored: StoredVersion): JsonObject | undefined {
    if (stored.policy !== undefined) return stored.policy
    if (stored.value === undefined) return undefined
    const plain = this.access.opener(key, stored.value.kid).open(stored.value, this.#sealContext(key, stored))
    let value: unknown
    try {
      value = JSON.parse(plain.toString('utf8'))
    } catch {}
    if (!isJsonObject(value)) throw new CredregError('INTERNAL', `the stored value of ${key} version ${stored.version} is not a JSON object`, { key })
    return value
  }

  /**
   * The record of schema 2 a stored version was (for a reseeded log): the very
   * record when it was one; a version of a schema 1 record is sealed afresh,
   * bound to the whole record, and a delete tagged.
   */
  recordOf (key: string, stored: StoredVersion): LogRecord {
    const head = { ns: this.namespace, key, version: stored.version, meta: stored.meta }
    if (stored.policy !== undefined && stored.sig !== undefined) return { v: RECORD_SCHEMA_VERSION, ...head, op: 'put', policy: stored.policy, sig: stored.sig }
    const policy = this.#policy
    if (policy !== undefined) {
      // Under a policy a record counts only signed by a granted host, in its name: this host re-signs
      // what it carries over (so it must be granted every key: Follower.reseed checks), the
      // version, time and correlation id kept; the audit of the new log names it as the writer.
      const name = policy.host(this.access.publicKey)?.name ?? stored.meta.nodeId
      const plain = stored.value === undefined ? undefined : this.access.opener(key, stored.value.kid).open(stored.value, this.#sealContext(key, stored))
      return buildRecord({ ...head, meta: { ...stored.meta, nodeId: name } }, stored.op, plain, this.access.recordKeys())
    }
    // A changeset's value is bound to the changeset: as a key's own record it is sealed afresh.
    if (stored.op !== 'delete' && stored.value !== undefined && stored.schema === RECORD_SCHEMA_VERSION && stored.changeset === undefined) {
      return { v: RECORD_SCHEMA_VERSION, ...head, op: stored.op, value: stored.value }
    }
    const plain = stored.value === undefined ? undefined : this.access.opener(key, stored.value.kid).open(stored.value, this.#sealContext(key, stored))
    return buildRecord(head, stored.op, plain, this.access.recordKeys())
  }

  #sealContext (key: string, stored: StoredVersion): SealContext {
    const change = { key, version: stored.version, op: stored.op }
    if (stored.changeset !== undefined) return changeSealContext(this.namespace, stored.changeset.id, stored.sealedIn ?? stored.meta, change)
    return sealContextOf({ ns: this.namespace, ...change, meta: stored.meta }, stored.schema ?? LEGACY_SCHEMA_VERSION)
  }

  toEntity (key: string, stored: StoredVersion): Entity {
    return { key, version: stored.version, value: this.unseal(key, stored), meta: this.metaOf(stored) }
  }

  /** Who wrote a stored version, when and why: its verified signer too, when signed. */
  metaOf (stored: StoredVersion): Entity['meta'] {
    return { ...stored.meta, op: stored.op, ...(stored.signer !== undefined ? { signer: stored.signer } : {}) }
  }

  async list (prefix: string, { limit = 100, after }: ListOptions): Promise<ListPage> {
    const range = { gte: prefix, lt: `${prefix}\xff` }
    const start = after !== undefined && after >= prefix ? { gt: after, lt: range.lt } : range
    const items: ListPage['items'] = []
    let last: string | undefined
    let more = false
    let scanned = 0
    for await (const [key, entity] of this.store.entities.iterator(start)) {
      // Tombstones count too: a page never reads without bound, even through a prefix of deleted keys.
      if (items.length === limit || scanned === this.#scanLimit) {
        more = true
        break
      }
      scanned++
      last = key
      if (entity.op !== 'delete') items.push({ key, version: entity.version, updatedAt: entity.meta.updatedAt })
    }
    return more && last !== undefined ? { items, next: last } : { items }
  }
}
