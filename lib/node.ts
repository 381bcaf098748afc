/**
 * A node: the local replica, the change log (JetStream or embedded) and the
 * write path, behind the {@link CredregNode} contract. `openNode` is what
 * apps embedding a replica, the daemon and the tests all start from.
 */
import { mkdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { v7 as uuidv7 } from 'uuid'
import { Authenticator } from './authenticator.js'
import { CredregError, isCredregError, VersionConflictError } from './errors.js'
import { assertKey, assertNamespace, assertPrefix } from './key.js'
import { readKeyFile } from './key-file.js'
import { createLog, type AbstractLog } from './log/index.js'
import { applyJsonPatch, applyMergePatch } from './patch.js'
import { Follower } from './replica/follower.js'
import { Replica, type AppliedChange } from './replica/replica.js'
import type { Db } from './replica/store.js'
import { DEFAULT_WATCH_QUEUE_BYTES } from './replica/change-queue.js'
import { Watchers, type WatchLoad } from './replica/watchers.js'
import { historyOf } from './replica/history.js'
import { loadOrCreateHostKey } from './identity/signing-key.js'
import { KeyRing } from './key-ring.js'
import type {
  AbortOptions, AckOptions, Change, ChangeEvent, CommitOptions, CommitResult, ConditionalOptions, CredregNode, GetOptions, Rotation, StageOptions, Entity, HistoryEntry, JsonObject, ListOptions, ListPage, NodeOptions,
  NodeStatus, PatchOperation, PutOptions, ReleaseOptions, ReseedResult, RotationEvent, RotationWatchOptions, Status, WatchOptions, WriteResult
} from './types.js'
import { DEFAULT_MAX_VALUE_BYTES } from './value.js'
import { Writer, type WriteIntent } from './write/writer.js'
import { ChangesetWriter } from './write/changeset-writer.js'
import { PolicyWriter } from './write/policy-writer.js'
import type { Policy } from './identity/policy.js'
import type { NodeIdentity } from './shapes/identity.js'
import type { AuditPage } from './shapes/audit.js'
import { resealKeys, type ResealResult } from './admin/reseal.js'
import { NodeRotations } from './rotations/node-rotations.js'
import { RotationDeadlines } from './rotations/rotation-deadlines.js'
import { RotationWatchers } from './rotations/rotation-watchers.js'
import { RotationWriter } from './write/rotation-writer.js'
import { ApplyClock } from './timings/apply-clock.js'

export const DEFAULT_HISTORY_DEPTH = 10
export const DEFAULT_WRITE_TIMEOUT_MS = 5000
export const DEFAULT_MAX_WATCHERS = 128
export const DEFAULT_MAX_WATCH_REPLAYS = 8
/** The host key's file in the data directory: the node's identity, made on first start. */
export const HOST_KEY_FILE = 'host.key'
const MAX_LIST_LIMIT = 1000
// Writes that may land between reading the version an `ifExists` write builds on and the write itself.
const IF_EXISTS_ATTEMPTS = 3

/** Opens a node; resolves once the replica is open (the log may still be connecting). */
export async function openNode (options: NodeOptions): Promise<CredregNode> {
  const node = new Node(options)
  await node.open()
  return node
}

/**
 * Calls `listener` with each run of changes the node's replica applies, as it
 * applies them (synchronously, values still sealed); returns the function that
 * stops it. For the daemon's apply log: not part of the public node contract.
 */
export function onApplied (node: CredregNode, listener: (changes: AppliedChange[]) => void): () => void {
  if (!(node instanceof Node)) throw new TypeError('onApplied needs a node opened by openNode')
  return node.onApplied(listener)
}

/**
 * Calls `listener` with the rotation events of each run of records the node's
 * replica applies, as it applies them (synchronously: it never falls behind);
 * returns the function that stops it. For the daemon's rotation metrics and
 * log: not part of the public node contract.
 */
export function onRotationEvents (node: CredregNode, listener: (events: RotationEvent[]) => void): () => void {
  if (!(node instanceof Node)) throw new TypeError('onRotationEvents needs a node opened by openNode')
  return node.onRotationEvents(listener)
}

/**
 * The authenticator of an open node's namespace key, for the messages a
 * node exchanges with its peers (membership records: lib/peers). Not
 * part of the public node contract.
 */
export function authenticatorOf (node: CredregNode): Authenticator {
  if (!(node instanceof Node)) throw new TypeError('authenticatorOf needs a node opened by openNode')
  return node.authenticator
}

/**
 * The policy in force and its version (`undefined` in open mode), and a way
 * to carry the next version, built and signed by the admin, to the log: for
 * the daemon's admin routes, not part of the public node contract.
 */
export function policyAccess (node: CredregNode): { current: () => { version: number, policy: Policy } | undefined, put: (record: unknown) => Promise<WriteResult> } {
  if (!(node instanceof Node)) throw new TypeError('policyAccess needs a node opened by openNode')
  return { current: () => node.policy(), put: async record => await node.putPolicy(record) }
}

/**
 * A page of the node's audit trail, oldest first: entries touching a key
 * under `prefix`, written at or after `since` (ISO-8601), after sequence
 * `after`, at most `limit` (1–1000, default 100). For the daemon's audit
 * route: not part of the public node contract.
 */
export async function auditTrail (node: CredregNode, query: { prefix?: string, since?: string, after?: number, limit?: number } = {}): Promise<AuditPage> {
  if (!(node instanceof Node)) throw new TypeError('auditTrail needs a node opened by openNode')
  return await node.audit(query)
}

/**
 * Writes again, under its read scope's current key, every live value under
 * `prefix` still sealed under an older one (lib/admin/reseal.ts): what
 * `credreg admin rotate-key --reseal` runs before the old key is retired.
 * Not part of the public node contract.
 */
export async function resealScope (node: CredregNode, prefix: string, onProgress?: (result: ResealResult) => void): Promise<ResealResult> {
  if (!(node instanceof Node)) throw new TypeError('resealScope needs a node opened by openNode')
  return await node.reseal(prefix, onProgress)
}

/**
 * The node's {@link WatchLoad} (`undefined` for a node not opened by
 * `openNode`), for the daemon's metrics and tests: not part of the public node contract.
 */
export function watchLoad (node: CredregNode): WatchLoad | undefined {
  return node instanceof Node ? node.watchLoad() : undefined
}

class Node implements CredregNode {
  readonly namespace: string
  readonly #options: NodeOptions
  readonly #depth: number
  readonly #maxValueBytes: number
  readonly #timeoutMs: number
  readonly #watchers: Watchers
  readonly #rotationWatchers: RotationWatchers
  #status: Status = 'closed'
  #nodeId = ''
  #db: Db | undefined
  #log: AbstractLog | undefined
  #replica: Replica | undefined
  #follower: Follower | undefined
  #writer: Writer | undefined
  #changesets: ChangesetWriter | undefined
  #policyWriter: PolicyWriter | undefined
  #rotations: NodeRotations | undefined
  #deadlines: RotationDeadlines | undefined
  #authenticator: Authenticator | undefined
  readonly #inFlight = new Set<Promise<unknown>>()

  constructor (options: NodeOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('openNode needs an options object')
    if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new CredregError('INVALID_CONFIG', 'dataDir must be a directory path')
    this.namespace = options.namespace ?? 'default'
    assertNamespace(this.namespace)
    this.#depth = intOption('historyDepth', options.historyDepth, DEFAULT_HISTORY_DEPTH, 1, 100)
    this.#maxValueBytes = intOption('maxValueBytes', options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 2, 1024 * 1024)
    this.#timeoutMs = intOption('writeTimeoutMs', options.writeTimeoutMs, DEFAULT_WRITE_TIMEOUT_MS, 100, 600_000)
    const maxWatchers = intOption('maxWatchers', options.maxWatchers, DEFAULT_MAX_WATCHERS, 1, 100_000)
    this.#watchers = new Watchers({
      maxWatchers,
      maxReplays: intOption('maxWatchReplays', options.maxWatchReplays, DEFAULT_MAX_WATCH_REPLAYS, 1, 100_000),
      queueBytes: intOption('watchQueueBytes', options.watchQueueBytes, DEFAULT_WATCH_QUEUE_BYTES, 64 * 1024, 1024 * 1024 * 1024)
    })
    this.#rotationWatchers = new RotationWatchers(maxWatchers)
    if (options.nats !== undefined) {
      intOption('nats.replicas', options.nats.replicas, 1, 1, 5)
      intOption('nats.maxBytes', options.nats.maxBytes, -1, 1024 * 1024, Number.MAX_SAFE_INTEGER)
    }
    if (options.nodeId !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(options.nodeId)) {
      throw new CredregError('INVALID_CONFIG', `nodeId must be 1-128 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(options.nodeId)}`)
    }
    this.#options = options
  }

  get nodeId (): string { return this.#nodeId }
  get authenticator (): Authenticator {
    if (this.#authenticator === undefined) throw new CredregError('CLOSED', `the node is ${this.#status}`)
    return this.#authenticator
  }

  get status (): Status { return this.#status }

  async open (): Promise<void> {
    const o = this.#options
    this.#status = 'opening'
    const dataKey = await keyOf(o.dataKey)
    const keys = new KeyRing(dataKey, await Promise.all((o.scopeKeys ?? []).map(keyOf)))
    const authenticator = new Authenticator(dataKey)
    await mkdir(o.dataDir, { recursive: true })
    const hostKey = await loadOrCreateHostKey(join(o.dataDir, HOST_KEY_FILE))
    const db: Db = new Level<string, string>(join(o.dataDir, 'replica'))
    try {
      await db.open()
    } catch (cause) {
      this.#status = 'closed'
      if ((cause as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') {
        throw new CredregError('DATA_DIR_LOCKED', `the data directory ${o.dataDir} is in use by another credreg process`, { cause })
      }
      throw cause
    }
    this.#db = db
    try {
      const replica = new Replica({ db, namespace: this.namespace, keys, authenticator, hostKey, historyDepth: this.#depth, ...(o.logger !== undefined ? { logger: o.logger } : {}) })
      await replica.load()
      this.#nodeId = await this.#resolveNodeId(replica)
      const log = createLog({
        db,
        nats: o.nats === undefined ? undefined : { name: `credreg ${this.#nodeId}`, ...o.nats },
        namespace: this.namespace,
        maxPerKey: this.#depth,
        authenticator,
        maxValueBytes: this.#maxValueBytes,
        ...(o.timings !== undefined ? { timestamps: true } : {}),
        ...(o.logger !== undefined ? { logger: o.logger } : {})
      })
      await log.open()
      const follower = new Follower(log, replica, o.logger, o.timings === undefined ? undefined : new ApplyClock(o.timings, replica))
      follower.start()
      this.#replica = replica
      this.#authenticator = authenticator
      this.#log = log
      this.#follower = follower
      const path = {
        log,
        replica,
        namespace: this.namespace,
        nodeId: this.#nodeId,
        maxValueBytes: this.#maxValueBytes,
        timeoutMs: this.#timeoutMs,
        refusal: () => follower.writeRefusal,
        ...(o.timings !== undefined ? { timings: o.timings } : {})
      }
      this.#writer = new Writer(path)
      this.#changesets = new ChangesetWriter(path)
      this.#policyWriter = new PolicyWriter(path)
      this.#rotations = new NodeRotations({
        replica,
        changesets: this.#changesets,
        decisions: new RotationWriter(path),
        nodeId: this.#nodeId,
        track: async write => await this.#tracked(write)
      })
      this.#deadlines = new RotationDeadlines(replica, async id => { await this.abort(id, { reason: 'the deadline passed' }) }, o.logger)
      await this.#deadlines.start()
    } catch (err) {
      await db.close()
      this.#status = 'closed'
      throw err
    }
    this.#status = 'open'
  }

  async #resolveNodeId (replica: Replica): Promise<string> {
    const stored = await replica.store.meta.get('nodeId')
    const nodeId = this.#options.nodeId ?? stored ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64)}-${uuidv7().slice(-12)}`
    if (nodeId !== stored) await replica.store.meta.put('nodeId', nodeId)
    return nodeId
  }

  #open (): { replica: Replica, writer: Writer, rotations: NodeRotations } {
    if (this.#status !== 'open' || this.#replica === undefined || this.#writer === undefined || this.#rotations === undefined) {
      throw new CredregError('CLOSED', `the node is ${this.#status}`)
    }
    return { replica: this.#replica, writer: this.#writer, rotations: this.#rotations }
  }

  async get (key: string, options: GetOptions = {}): Promise<Entity> {
    const { replica, rotations } = this.#open()
    assertKey(key)
    readable(replica, key)
    if (options.stage !== undefined) {
      if (options.stage !== 'pending') throw new CredregError('BAD_REQUEST', `stage must be 'pending', got ${JSON.stringify(options.stage)}`, { key })
      if (options.version !== undefined) throw new CredregError('BAD_REQUEST', 'version and stage exclude each other', { key })
      return await rotations.pending(key)
    }
    if (options.version !== undefined) {
      positiveInt('version', options.version)
      const stored = await replica.storedVersion(key, options.version)
      if (stored === undefined) throw new CredregError('NOT_FOUND', `${key} has no retained version ${options.version}`, { key })
      return replica.toEntity(key, stored)
    }
    const head = await replica.head(key)
    if (head === undefined || head.op === 'delete') throw new CredregError('NOT_FOUND', `${key} does not exist`, { key })
    return replica.toEntity(key, head)
  }

  async put (key: string, value: JsonObject, options: PutOptions = {}): Promise<WriteResult> {
    const given = [options.ifVersion !== undefined && 'ifVersion', options.ifAbsent === true && 'ifAbsent', options.ifExists === true && 'ifExists'].filter(Boolean)
    if (given.length > 1) throw new CredregError('BAD_REQUEST', `${given.join(' and ')} exclude each other`, { key })
    return await this.#conditional(key, { ...conditions(options), ...(options.ifAbsent === true ? { ifAbsent: true } : {}), op: 'put', apply: () => value }, options)
  }

  async patch (key: string, ops: PatchOperation[], options: ConditionalOptions = {}): Promise<WriteResult> {
    return await this.#conditional(key, { ...conditions(options), op: 'patch', apply: current => applyJsonPatch(current ?? {}, ops, { key, maxValueBytes: this.#maxValueBytes }) }, options)
  }

  async merge (key: string, patch: JsonObject, options: ConditionalOptions = {}): Promise<WriteResult> {
    return await this.#conditional(key, { ...conditions(options), op: 'patch', apply: current => applyMergePatch(current ?? {}, patch, { key, maxValueBytes: this.#maxValueBytes }) }, options)
  }

  async delete (key: string, options: ConditionalOptions = {}): Promise<WriteResult> {
    return await this.#conditional(key, { ...conditions(options), op: 'delete' }, options)
  }

  /**
   * A write, under `ifExists` when asked. The writer knows versions, not
   * existence: the key must exist at the version the replica holds, and a
   * conflict (another write landed first) is decided again on the version
   * the writer then caught up to, while the key keeps existing.
   */
  async #conditional (key: string, intent: WriteIntent, options: ConditionalOptions): Promise<WriteResult> {
    if (options.ifExists !== true) return await this.#write(key, intent)
    if (intent.ifVersion !== undefined) throw new CredregError('BAD_REQUEST', 'ifVersion and ifExists exclude each other', { key })
    for (let attempt = 1; ; attempt++) {
      const { replica } = this.#open()
      assertKey(key)
      const head = await replica.head(key)
      if (head === undefined || head.op === 'delete') {
        const err = new VersionConflictError(key, undefined, head?.version ?? 0)
        err.message = `${key}: expected the key to exist, but it does not${head === undefined ? '' : ` (deleted at version ${head.version})`}`
        throw err
      }
      try {
        return await this.#write(key, { ...intent, ifVersion: head.version })
      } catch (err) {
        if (!isCredregError(err, 'VERSION_CONFLICT') || attempt >= IF_EXISTS_ATTEMPTS) throw err
      }
    }
  }

  async #write (key: string, intent: WriteIntent): Promise<WriteResult> {
    const { writer } = this.#open()
    assertKey(key)
    if (intent.ifVersion !== undefined) positiveInt('ifVersion', intent.ifVersion, 0)
    return await this.#tracked(writer.write(key, intent))
  }

  async commit (changes: Change[], options: CommitOptions = {}): Promise<CommitResult> {
    this.#open()
    return await this.#tracked((this.#changesets as ChangesetWriter).commit(changes, options))
  }

  async stage (changes: Change[], options?: StageOptions): Promise<Rotation> {
    return await this.#open().rotations.stage(changes, options)
  }

  async rotation (id: string): Promise<Rotation> {
    return await this.#open().rotations.rotation(id)
  }

  async rotations (): Promise<Rotation[]> {
    return await this.#open().rotations.rotations()
  }

  async ack (id: string, options: AckOptions): Promise<Rotation> {
    return await this.#open().rotations.ack(id, options)
  }

  async release (id: string, options?: ReleaseOptions): Promise<Rotation> {
    return await this.#open().rotations.release(id, options)
  }

  async abort (id: string, options?: AbortOptions): Promise<Rotation> {
    return await this.#open().rotations.abort(id, options)
  }

  watchRotations (options: RotationWatchOptions = {}): AsyncIterableIterator<RotationEvent> {
    const { replica } = this.#open()
    return this.#rotationWatchers.open(replica, options.signal)
  }

  // A write under way is waited for by close(): a caller never sees one vanish mid-flight.
  async #tracked<T> (write: Promise<T>): Promise<T> {
    this.#inFlight.add(write)
    try {
      return await write
    } finally {
      this.#inFlight.delete(write)
    }
  }

  async list (prefix = '', options: ListOptions = {}): Promise<ListPage> {
    const { replica } = this.#open()
    assertPrefix(prefix)
    const limit = options.limit ?? 100
    positiveInt('limit', limit)
    if (limit > MAX_LIST_LIMIT) throw new CredregError('BAD_REQUEST', `limit must be at most ${MAX_LIST_LIMIT}`)
    if (options.after !== undefined) assertKey(options.after)
    const page = await replica.list(prefix, { limit, ...(options.after !== undefined ? { after: options.after } : {}) })
    // Keys this host may not read are not listed: their names can tell too much already.
    return replica.policy === undefined ? page : { ...page, items: page.items.filter(i => replica.access.readable(i.key)) }
  }

  async history (key: string): Promise<HistoryEntry[]> {
    const { replica } = this.#open()
    assertKey(key)
    readable(replica, key)
    const entries = await historyOf(replica, key)
    if (entries.length === 0) throw new CredregError('NOT_FOUND', `${key} has no history here`, { key })
    return entries
  }

  watch (prefix = '', options: WatchOptions = {}): AsyncIterableIterator<ChangeEvent> {
    const { replica } = this.#open()
    assertPrefix(prefix)
    if (options.since !== undefined) positiveInt('since', options.since, 0)
    return this.#watchers.open(replica, prefix, options.since, options.signal)
  }

  async waitForApplied (seq: number, timeoutMs = this.#timeoutMs): Promise<void> {
    const { replica } = this.#open()
    positiveInt('seq', seq, 0)
    await replica.waitForApplied(seq, timeoutMs)
  }

  watchLoad (): WatchLoad {
    return this.#watchers.load(this.#replica)
  }

  onApplied (listener: (changes: AppliedChange[]) => void): () => void {
    const { replica } = this.#open()
    replica.on('applied', listener)
    return () => { replica.off('applied', listener) }
  }

  onRotationEvents (listener: (events: RotationEvent[]) => void): () => void {
    const { replica } = this.#open()
    replica.on('rotations', listener)
    return () => { replica.off('rotations', listener) }
  }

  async nodeStatus (): Promise<NodeStatus> {
    const { replica } = this.#open()
    const log = this.#log as AbstractLog
    const follower = this.#follower as Follower
    const logSeq = await follower.refreshLogSeq()
    const server = log.server
    return {
      nodeId: this.#nodeId,
      mode: log.supports.shared ? 'cluster' : 'standalone',
      namespace: this.namespace,
      status: this.#status,
      appliedSeq: replica.appliedSeq,
      logSeq,
      lag: Math.max(0, logSeq - replica.appliedSeq),
      connected: log.connected,
      ...(server !== undefined ? { server } : {}),
      entities: replica.liveCount,
      rejected: { ...replica.rejected },
      ...(follower.diverged !== undefined ? { diverged: { ...follower.diverged } } : {}),
      identity: this.#identity(replica)
    }
  }

  #identity (replica: Replica): NodeIdentity {
    const policy = replica.policy
    const grant = policy?.host(replica.access.publicKey)
    return {
      publicKey: replica.access.publicKey,
      keyIds: replica.access.keyIds,
      ...(policy !== undefined ? { policyVersion: policy.version } : {}),
      ...(grant !== undefined ? { grant } : {})
    }
  }

  /**
   * The policy in force and its version, or `undefined` in open mode. Not
   * part of the public node contract (the admin commands read it through the
   * daemon to build the next version).
   */
  policy (): { version: number, policy: Policy } | undefined {
    const policy = this.#open().replica.policy
    return policy === undefined ? undefined : { version: policy.version, policy: policy.document }
  }

  async audit ({ prefix = '', since, after, limit = 100 }: { prefix?: string, since?: string, after?: number, limit?: number }): Promise<AuditPage> {
    const { replica } = this.#open()
    assertPrefix(prefix)
    positiveInt('limit', limit)
    if (limit > MAX_LIST_LIMIT) throw new CredregError('BAD_REQUEST', `limit must be at most ${MAX_LIST_LIMIT}`)
    if (after !== undefined) positiveInt('after', after, 0)
    if (since !== undefined && (typeof since !== 'string' || Number.isNaN(Date.parse(since)))) {
      throw new CredregError('BAD_REQUEST', `since must be an ISO-8601 time, got ${JSON.stringify(since)}`)
    }
    // Times compare as the writers spelled them (ISO-8601 in UTC): the query is spelled alike.
    const from = since === undefined ? undefined : new Date(since).toISOString()
    const page = await replica.audit({ prefix, limit, ...(from !== undefined ? { since: from } : {}), ...(after !== undefined ? { after } : {}) })
    // Entries of keys this host may not read are not its to show, as in a list.
    return replica.policy === undefined ? page : { ...page, entries: page.entries.filter(e => e.keys.length === 0 || e.keys.some(k => replica.access.readable(k))) }
  }

  async reseal (prefix: string, onProgress?: (result: ResealResult) => void): Promise<ResealResult> {
    const { replica } = this.#open()
    assertPrefix(prefix)
    return await resealKeys(replica, prefix, async (key, value, ifVersion) => await this.put(key, value, { ifVersion }), onProgress)
  }

  /** Carries a policy record the admin built and signed to the log (lib/write/policy-writer.ts). */
  async putPolicy (record: unknown): Promise<WriteResult> {
    this.#open()
    return await this.#tracked((this.#policyWriter as PolicyWriter).write(record))
  }

  async reseed (): Promise<ReseedResult> {
    this.#open()
    if (!(this.#log as AbstractLog).supports.reseed) {
      throw new CredregError('RESEED_REFUSED', 'this node keeps its change log in its own data directory (standalone): there is no separate log to reseed')
    }
    return await (this.#follower as Follower).reseed()
  }

  async close (): Promise<void> {
    if (this.#status !== 'open') return
    this.#status = 'closing'
    // Writes under way finish (or fail) first: a caller never sees a write vanish mid-flight.
    await Promise.allSettled([...this.#inFlight])
    this.#watchers.closeAll()
    this.#rotationWatchers.closeAll()
    this.#deadlines?.stop()
    await this.#follower?.stop()
    await this.#log?.close()
    await this.#db?.close()
    this.#status = 'closed'
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}

async function keyOf (key: Uint8Array | { file: string }): Promise<Uint8Array> {
  return key instanceof Uint8Array ? key : await readKeyFile(key.file)
}

/** Throws `FORBIDDEN` unless the policy in force lets this host read `key`. */
function readable (replica: Replica, key: string): void {
  if (replica.access.readable(key)) return
  throw new CredregError('FORBIDDEN', `policy version ${replica.policy?.version ?? 0} does not let this host read ${key}`, { key })
}

function conditions (options: ConditionalOptions): Pick<WriteIntent, 'ifVersion' | 'correlationId'> {
  return {
    ...(options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {}),
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {})
  }
}

function positiveInt (name: string, value: unknown, min = 1): void {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new CredregError('BAD_REQUEST', `${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`)
  }
}

function intOption (name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CredregError('INVALID_CONFIG', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}
