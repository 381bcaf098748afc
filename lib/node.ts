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
import { Sealer } from './seal.js'
import type {
  AbortOptions, AckOptions, Change, ChangeEvent, CommitOptions, CommitResult, ConditionalOptions, CredregNode, GetOptions, Rotation, StageOptions, Entity, HistoryEntry, JsonObject, ListOptions, ListPage, NodeOptions,
  NodeStatus, PatchOperation, PutOptions, ReleaseOptions, ReseedResult, RotationEvent, RotationWatchOptions, Status, WatchOptions, WriteResult
} from './types.js'
import { DEFAULT_MAX_VALUE_BYTES } from './value.js'
import { Writer, type WriteIntent } from './write/writer.js'
import { ChangesetWriter } from './write/changeset-writer.js'
import { NodeRotations } from './rotations/node-rotations.js'
import { RotationDeadlines } from './rotations/rotation-deadlines.js'
import { RotationWatchers } from './rotations/rotation-watchers.js'
import { RotationWriter } from './write/rotation-writer.js'

export const DEFAULT_HISTORY_DEPTH = 10
export const DEFAULT_WRITE_TIMEOUT_MS = 5000
export const DEFAULT_MAX_WATCHERS = 128
export const DEFAULT_MAX_WATCH_REPLAYS = 8
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
    const dataKey = o.dataKey instanceof Uint8Array ? o.dataKey : await readKeyFile(o.dataKey.file)
    const sealer = new Sealer(dataKey)
    const authenticator = new Authenticator(dataKey)
    await mkdir(o.dataDir, { recursive: true })
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
      const replica = new Replica({ db, namespace: this.namespace, sealer, authenticator, historyDepth: this.#depth, ...(o.logger !== undefined ? { logger: o.logger } : {}) })
      await replica.load()
      this.#nodeId = await this.#resolveNodeId(replica)
      const log = createLog({
        db,
        nats: o.nats === undefined ? undefined : { name: `credreg ${this.#nodeId}`, ...o.nats },
        namespace: this.namespace,
        maxPerKey: this.#depth,
        authenticator,
        maxValueBytes: this.#maxValueBytes,
        ...(o.logger !== undefined ? { logger: o.logger } : {})
      })
      await log.open()
      const follower = new Follower(log, replica, o.logger)
      follower.start()
      this.#replica = replica
      this.#authenticator = authenticator
      this.#log = log
      this.#follower = follower
      const path = {
        log,
        replica,
        sealer,
        namespace: this.namespace,
        nodeId: this.#nodeId,
        maxValueBytes: this.#maxValueBytes,
        timeoutMs: this.#timeoutMs,
        refusal: () => follower.writeRefusal
      }
      this.#writer = new Writer(path)
      this.#changesets = new ChangesetWriter(path)
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
    return await replica.list(prefix, { limit, ...(options.after !== undefined ? { after: options.after } : {}) })
  }

  async history (key: string): Promise<HistoryEntry[]> {
    const { replica } = this.#open()
    assertKey(key)
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
      ...(follower.diverged !== undefined ? { diverged: { ...follower.diverged } } : {})
    }
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
