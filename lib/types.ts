/**
 * The public contract of credreg: the shapes (written once, as schemas, in
 * lib/shapes/), the options and the node's roles. Everything here is
 * documented; implementations are not.
 */
import type { ChangeEvent } from './shapes/change-event.js'
import type { Change, CommitResult } from './shapes/changeset.js'
import type { Rotation, RotationEvent } from './shapes/rotation.js'
import type { Entity } from './shapes/entity.js'
import type { HistoryEntry } from './shapes/history.js'
import type { JsonObject, PatchOperation } from './shapes/json.js'
import type { ListPage } from './shapes/list-page.js'
import type { ReseedResult } from './shapes/reseed.js'
import type { NodeStatus, Status } from './shapes/status.js'
import type { WriteResult } from './shapes/write-result.js'
import type { TimingHook } from './timings/stages.js'

export type { ChangeEvent } from './shapes/change-event.js'
export type { Change, ChangeResult, ChangesetBody, ChangesetPosition, CommitResult, KeyFailure } from './shapes/changeset.js'
export type { Entity, EntityMeta, WriteOp } from './shapes/entity.js'
export type { HistoryEntry } from './shapes/history.js'
export type { JsonObject, PatchOperation } from './shapes/json.js'
export type { ListItem, ListPage } from './shapes/list-page.js'
export type { ReseedResult } from './shapes/reseed.js'
export type { Rotation, RotationEvent } from './shapes/rotation.js'
export type { NodeStatus, Status } from './shapes/status.js'
export type { WriteResult } from './shapes/write-result.js'

/** Options of {@link CredregWriter.put}. */
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

/** Options of {@link CredregWriter.patch} and {@link CredregWriter.delete}. */
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

/** Options of {@link CredregWriter.commit}. */
export interface CommitOptions {
  /** Correlation id (uuid) to carry in the changeset's record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregRotations.stage}. */
export interface StageOptions {
  /**
   * Node ids of the hosts that must acknowledge the rotation before it may be
   * released. Default: every host heard from (a daemon), or this node (an
   * embedded one).
   */
  hosts?: string[]
  /** Seconds after which any node aborts the rotation if it is still open. */
  deadlineSeconds?: number
  /** Correlation id (uuid) to carry in the stage record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregRotations.ack}. */
export interface AckOptions {
  /** Whether this host's check of the staged values passed. */
  ok: boolean
  /** What it checked, or why it failed (a longer one is cut to 4096 characters, saying so). */
  message?: string
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregRotations.release}. */
export interface ReleaseOptions {
  /** Release without every acknowledgement ok (recorded as forced). */
  force?: boolean
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregRotations.abort}. */
export interface AbortOptions {
  /** Why (a longer one is cut to 4096 characters, saying so). */
  reason?: string
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** Options of {@link CredregReader.get}. */
export interface GetOptions {
  /** A version from history instead of the latest. */
  version?: number
  /**
   * `pending`: the value an open rotation stages for the key, instead of the
   * current one (`NOT_FOUND` when no open rotation stages it). A plain read,
   * list or watch never returns a staged value.
   */
  stage?: 'pending'
}

/** Options of {@link CredregReader.list}. */
export interface ListOptions {
  /** At most this many items (default 100, at most 1000). */
  limit?: number
  /** Start after this key (exclusive), for paging. */
  after?: string
}

/** Options of {@link CredregReader.watch}. */
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
  /**
   * The subject prefix of this connection's reply subjects (`_INBOX` by
   * default), e.g. `_INBOX_host-a`: a NATS user allowed to subscribe only
   * below its own prefix cannot read other clients' replies
   * (docs/nats-permissions.md).
   */
  inboxPrefix?: string
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
  /**
   * The keys of the read scopes this host may read, and rotated keys not yet
   * retired (each 32 bytes, or a file of them): values are opened by the key
   * their key id names. Under a policy, a value this host holds no key for
   * reads as `FORBIDDEN`.
   */
  scopeKeys?: Array<Uint8Array | { file: string }>
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
  /**
   * Watchers open at once; `watch()` beyond it throws `UNAVAILABLE` (default
   * 128). Rotation watchers (`watchRotations()`) are counted apart, under the same cap.
   */
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
  /**
   * Receives the durations of each stage of a write and of each apply
   * (lib/timings/stages.ts); absent, nothing is timed. The daemon's
   * `/metrics` and `GET /v1/timings` are fed from it.
   */
  timings?: TimingHook
}

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

/**
 * The reading role: what a node and a client both answer from a replica.
 * `H` is the entry of a history: a node's {@link HistoryEntry} carries the
 * value, a client's `ClientHistoryEntry` does not.
 */
export interface CredregReader<H = HistoryEntry> {
  /** The latest version of `key` (or the given one from history, or its staged value). Throws `NOT_FOUND`. */
  get: (key: string, options?: GetOptions) => Promise<Entity>
  /** Live keys starting with `prefix`, in key order, one page at a time (pass `next` back as `after`). */
  list: (prefix?: string, options?: ListOptions) => Promise<ListPage>
  /** Retained versions of `key`, oldest first. Throws `NOT_FOUND` for a key never seen. */
  history: (key: string) => Promise<H[]>
  /**
   * Changes to keys starting with `prefix`, in log order, until the signal
   * aborts or the iterator returns. Throws `UNAVAILABLE` at once when the
   * node's watcher or replay cap is reached. A consumer that falls more than
   * `watchQueueBytes` behind the live changes is ended with `WATCH_OVERFLOW`:
   * watch again with `since` = the last `seq` it processed.
   */
  watch: (prefix?: string, options?: WatchOptions) => AsyncIterableIterator<ChangeEvent>
}

/**
 * The writing role. Every write resolves once applied by the local replica.
 * `R` is the result of a write: a node's {@link WriteResult}, or a client's
 * `ClientWriteResult`, which has no `seq` (the daemon does not answer it).
 * A node's result is a client's result too, so code that takes either writer
 * asks for a `CredregWriter<ClientWriteResult>`.
 */
export interface CredregWriter<R = WriteResult> {
  /** Writes `value` as the next version of `key`. A lost condition throws `VersionConflictError`. */
  put: (key: string, value: JsonObject, options?: PutOptions) => Promise<R>
  /** Applies RFC 6902 operations to the latest version. Throws `PATCH_FAILED` when they cannot apply. */
  patch: (key: string, ops: PatchOperation[], options?: ConditionalOptions) => Promise<R>
  /** RFC 7396 merge patch. */
  merge: (key: string, patch: JsonObject, options?: ConditionalOptions) => Promise<R>
  /** Deletes `key`: the result's version is its tombstone. */
  delete: (key: string, options?: ConditionalOptions) => Promise<R>
  /**
   * Writes every change or none, each key at its next version, at one log
   * sequence (at most 64 keys, each once). Readers of a list or a watch never
   * see part of it. A condition that fails rejects with a `ChangesetError`
   * (code `VERSION_CONFLICT`, `NOT_FOUND` or `PATCH_FAILED`) whose `failures`
   * name every key that failed; nothing is written then.
   */
  commit: (changes: Change[], options?: CommitOptions) => Promise<CommitResult>
}

/**
 * Staged rotations: changes held back until every host that must take them
 * has acknowledged them, then released as one changeset, or aborted. Every
 * decision is a record of the log, decided alike by every replica.
 */
export interface CredregRotations {
  /**
   * Stages `changes` (as a changeset's, planned on the current versions) as a
   * new rotation; the values replicate to every host, readable only with
   * `get(key, { stage: 'pending' })`. Throws `ROTATION_REFUSED` when an open
   * rotation stages one of the keys already.
   */
  stage: (changes: Change[], options?: StageOptions) => Promise<Rotation>
  /** A rotation and where it stands (`NOT_FOUND` when never staged). */
  rotation: (id: string) => Promise<Rotation>
  /** The open (staged) rotations, oldest first. */
  rotations: () => Promise<Rotation[]>
  /** This host's acknowledgement: ok, or failed with a message (what its test said). */
  ack: (id: string, options: AckOptions) => Promise<Rotation>
  /**
   * Makes every staged change current, as one changeset at one sequence, once
   * every host acknowledged ok and no staged key moved (`force`: without the
   * acknowledgements, recorded as forced). Throws `ROTATION_REFUSED` with the
   * reason (which hosts are missing or failed, which key moved, closed).
   */
  release: (id: string, options?: ReleaseOptions) => Promise<Rotation>
  /** Closes the rotation without releasing it. Throws `ROTATION_REFUSED` when it is closed already. */
  abort: (id: string, options?: AbortOptions) => Promise<Rotation>
  /**
   * Rotation events (`staged`, `acked`, `released`, `aborted`) in log order,
   * live only: from the call on, until the signal aborts or the iterator
   * returns; nothing is replayed (`rotation(id)` is the durable view, to read
   * after a gap). Throws `UNAVAILABLE` at once when the node's cap of rotation
   * watchers is reached; a consumer that leaves too many events untaken is
   * ended with `WATCH_OVERFLOW`.
   */
  watchRotations: (options?: RotationWatchOptions) => AsyncIterableIterator<RotationEvent>
}

/** Options of {@link CredregRotations.watchRotations}. */
export interface RotationWatchOptions {
  /** Stops the watch. */
  signal?: AbortSignal
}

/** The administrative role: repairs of the change log. */
export interface CredregAdmin {
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
}

/**
 * A node: a local replica plus a change log plus the write path, in every
 * role. Reads are local; writes go through the log and resolve once applied
 * locally.
 */
export interface CredregNode extends CredregReader, CredregWriter, CredregRotations, CredregAdmin, AsyncDisposable {
  readonly nodeId: string
  readonly namespace: string
  readonly status: Status
  /** Resolves once the replica has applied through `seq` (or rejects with `TIMEOUT`). */
  waitForApplied: (seq: number, timeoutMs?: number) => Promise<void>
  nodeStatus: () => Promise<NodeStatus>
  close: () => Promise<void>
}
