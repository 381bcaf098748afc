/**
 * The public contract of credreg: entities, change events, options and the
 * node interface. Everything here is documented; implementations are not.
 */
import type { Operation } from 'fast-json-patch'

/** A JSON object: the only kind of value an entity holds. */
export type JsonObject = { [key: string]: unknown }

/** One RFC 6902 operation. */
export type PatchOperation = Operation

/** What kind of write produced a version. */
export type WriteOp = 'put' | 'patch' | 'delete'

/** Who wrote a version, when and why. */
export interface EntityMeta {
  /** ISO-8601 time at which the writing node created the record. */
  updatedAt: string
  /** Node id of the writer. */
  nodeId: string
  /** A uuid v7 that follows the write through logs on every host. */
  correlationId: string
  /** The kind of write. */
  op: WriteOp
}

/** One version of one key, as read from the local replica. */
export interface Entity {
  key: string
  /** 1, 2, 3… per key; gapless in the log; a delete is a version too. */
  version: number
  /** The value; `undefined` only for a delete (tombstone) read from history. */
  value: JsonObject | undefined
  meta: EntityMeta
}

/** One entry of {@link CredregNode.history}, newest last. */
export interface HistoryEntry {
  version: number
  /** Position of the record in the change log. */
  seq: number
  op: WriteOp
  meta: EntityMeta
  /** `undefined` for a delete. */
  value: JsonObject | undefined
  /**
   * RFC 6902 operations from the previous retained version to this one
   * (from `{}` for the first retained version or after a delete).
   */
  patch: PatchOperation[]
}

/** A change pushed to watchers, in log order. */
export interface ChangeEvent {
  /** Log sequence of the change; resume a watch with `since: seq`. */
  seq: number
  key: string
  version: number
  /**
   * The version this replica held before (0 when none). `prevVersion !==
   * version - 1` means versions in between were never seen here: the jump is
   * explicit, never silent.
   */
  prevVersion: number
  /**
   * `resync` carries the current state of a key whose changes since the
   * watcher's position are no longer retained locally.
   */
  op: WriteOp | 'resync'
  /** The new value; absent for a delete (and for a resync of a deleted key). */
  value?: JsonObject
  /** RFC 6902 operations from the previous value to this one. */
  patch: PatchOperation[]
  meta: EntityMeta
  /** For `resync`: whether the key currently exists. */
  deleted?: boolean
}

/** Options of {@link CredregNode.put}. */
export interface PutOptions {
  /** Write only if this is still the latest version. */
  ifVersion?: number
  /** Write only if the key never existed or its latest version is a delete. */
  ifAbsent?: boolean
  /** Write only if the key exists (its latest version is not a delete), whichever version that is: `If-Match: *`. */
  ifExists?: boolean
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregNode.patch} and {@link CredregNode.delete}. */
export interface ConditionalOptions {
  /** Write only if this is still the latest version. */
  ifVersion?: number
  /**
   * Write only if the key exists, whichever its version: a missing key is then
   * `VERSION_CONFLICT` (412, as for `If-Match: *`) rather than `NOT_FOUND`.
   */
  ifExists?: boolean
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** The result of every write. */
export interface WriteResult {
  key: string
  /** The version the write created. */
  version: number
  /** Log sequence of the record. */
  seq: number
  /** Whether the key was absent (or deleted) before this write. */
  created: boolean
  correlationId: string
}

/** Options of {@link CredregNode.list}. */
export interface ListOptions {
  /** At most this many items (default 100, at most 1000). */
  limit?: number
  /** Start after this key (exclusive), for paging. */
  after?: string
}

/** One item of a listing: live (not deleted) keys only. */
export interface ListItem {
  key: string
  version: number
  updatedAt: string
}

/** A page of keys; `next` is the `after` of the following page, if any. */
export interface ListPage {
  items: ListItem[]
  next?: string
}

/** Options of {@link CredregNode.watch}. */
export interface WatchOptions {
  /**
   * Deliver every change after this log sequence before live changes.
   * Absent: live changes only.
   */
  since?: number
  /** Stops the watch. */
  signal?: AbortSignal
}

/** NATS connection settings for cluster mode. */
export interface NatsOptions {
  /** One or more `nats://host:port` URLs. */
  servers: string | string[]
  user?: string
  pass?: string
  token?: string
  /**
   * Path of a `.creds` file (JWT + nkey seed). Like every secrets file it must
   * be a regular file (not a symbolic link) only its owner can access.
   */
  credsFile?: string
  /** Path of a file holding a user nkey seed (`SU…`), for a server that lists the user by its public nkey; a secrets file too. */
  nkeyFile?: string
  tls?: { caFile?: string, certFile?: string, keyFile?: string }
  /** Stream replicas (1 by default; 3 on a three-node cluster). */
  replicas?: number
  /**
   * Bytes the stream may hold, set when this node creates it (unlimited by
   * default). A full stream refuses new records (`UNAVAILABLE`) rather than
   * drop old ones that replicas may still need.
   */
  maxBytes?: number
  /** Display name of the connection. */
  name?: string
}

/** Options of `openNode`. */
export interface NodeOptions {
  /** Directory of the LevelDB replica (created if missing). */
  dataDir: string
  /** The 32-byte namespace data key, or a path to a file holding exactly those 32 bytes. */
  dataKey: Uint8Array | { file: string }
  /** Connect to NATS JetStream; absent means standalone (embedded log). */
  nats?: NatsOptions
  /** Namespace: `[A-Za-z0-9_-]{1,64}`, default `default`. */
  namespace?: string
  /** Versions kept per key (default 10, 1–100). */
  historyDepth?: number
  /** Largest serialized value in bytes (default 65536). */
  maxValueBytes?: number
  /** Node id; default: generated once and persisted in the replica. */
  nodeId?: string
  /** Bound of a write, including waiting for the local apply (default 5000 ms). */
  writeTimeoutMs?: number
  /** Watchers open at once; `watch()` beyond it throws `UNAVAILABLE` (default 128). */
  maxWatchers?: number
  /** Watchers replaying a backlog (`since` below the applied sequence) at once; `watch()` beyond it throws `UNAVAILABLE` (default 8). */
  maxWatchReplays?: number
  /**
   * Byte budget of each watcher's queue of changes it has not taken yet
   * (default 8 MiB); a watcher over it ends with `WATCH_OVERFLOW`.
   */
  watchQueueBytes?: number
  /** Receives structured log lines; silent when absent. */
  logger?: Logger
}

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

/** Lifecycle status of a node or log. */
export type Status = 'opening' | 'open' | 'closing' | 'closed'

/** What {@link CredregNode.status} reports. */
export interface NodeStatus {
  nodeId: string
  mode: 'standalone' | 'cluster'
  namespace: string
  status: Status
  /** Last log sequence applied to the replica. */
  appliedSeq: number
  /** Last sequence known in the log (as of the last contact). */
  logSeq: number
  /** `logSeq - appliedSeq`, never negative. */
  lag: number
  /** Whether the log can take writes right now. */
  connected: boolean
  /** The NATS server connected to, in cluster mode. */
  server?: string
  /** Live (not deleted) entities in the replica. */
  entities: number
  /** Records refused by the apply loop since open, by reason. */
  rejected: Record<string, number>
  /** Set when the log is not the one this replica was built from; writes are refused. */
  diverged?: { reason: string, since: string }
}

/** What {@link CredregNode.reseed} did. */
export interface ReseedResult {
  /** The identity of the reseeded log, which this replica now follows. */
  identity: string
  /** The identity this replica was built from, which the new log continues. */
  previous: string
  /** Keys this replica compared with the new log. */
  keys: number
  /** Versions this replica appended to it (its own newer ones). */
  versions: number
  /** Writes resume once the replica has re-read the new log up to this sequence. */
  rebaseUntil: number
}

/**
 * A node: a local replica plus a change log plus the write path. Reads are
 * local; writes go through the log and resolve once applied locally.
 */
export interface CredregNode extends AsyncDisposable {
  readonly nodeId: string
  readonly namespace: string
  readonly status: Status
  /** The latest version of `key` (or the given one from history). Throws `NOT_FOUND`. */
  get: (key: string, options?: { version?: number }) => Promise<Entity>
  put: (key: string, value: JsonObject, options?: PutOptions) => Promise<WriteResult>
  patch: (key: string, ops: PatchOperation[], options?: ConditionalOptions) => Promise<WriteResult>
  /** RFC 7396 merge patch. */
  merge: (key: string, patch: JsonObject, options?: ConditionalOptions) => Promise<WriteResult>
  delete: (key: string, options?: ConditionalOptions) => Promise<WriteResult>
  list: (prefix?: string, options?: ListOptions) => Promise<ListPage>
  /** Retained versions of `key`, oldest first. Throws `NOT_FOUND` for a key never seen. */
  history: (key: string) => Promise<HistoryEntry[]>
  /**
   * Changes to keys starting with `prefix`, in log order, until the signal
   * aborts or the iterator returns. Throws `UNAVAILABLE` at once when the
   * node's watcher or replay cap is reached. A consumer that falls more than
   * `watchQueueBytes` behind the live changes is ended with `WATCH_OVERFLOW`:
   * watch again with `since` = the last `seq` it processed.
   */
  watch: (prefix?: string, options?: WatchOptions) => AsyncIterableIterator<ChangeEvent>
  /** Resolves once the replica has applied through `seq` (or rejects with `TIMEOUT`). */
  waitForApplied: (seq: number, timeoutMs?: number) => Promise<void>
  nodeStatus: () => Promise<NodeStatus>
  /**
   * Restores the change log from this replica after the log lost its store:
   * only when the node has refused the log (`diverged`). Creates the stream as
   * a new history continuing this replica's (its sequences above the old
   * ones), appends every version the replica holds, and follows it; every
   * other replica of the same history adopts it by itself and contributes what
   * it has that is newer. Throws `RESEED_REFUSED` when the log matches the
   * replica, when the stream exists with another history, or when the node is
   * standalone.
   */
  reseed: () => Promise<ReseedResult>
  close: () => Promise<void>
}
