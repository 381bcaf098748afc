/**
 * The client library: the HTTP API of a credregd daemon, with the method
 * names, options, results and typed errors of an in-process node.
 */
import { validate as isUuid } from 'uuid'
import { checkChanges } from '../write/check-changes.js'
import { CredregError } from '../errors.js'
import { assertKey, assertPrefix } from '../key.js'
import type {
  AbortOptions, AckOptions, Change, ChangeEvent, CommitOptions, CommitResult, ConditionalOptions, CredregAdmin, CredregRotations, GetOptions, CredregReader, CredregWriter, Entity,
  JsonObject, ListOptions, ListPage, PatchOperation, PutOptions, ReleaseOptions, ReseedResult, Rotation, RotationEvent, RotationWatchOptions, StageOptions, WatchOptions
} from '../types.js'
import type { CreatedToken, CreateTokenBody, TokenInfo } from '../shapes/token.js'
import { Http } from './http.js'
import type { HttpRequest } from './http.js'
import { watchRotationEvents } from './rotation-watch.js'
import { ReadCache } from './read-cache.js'
import type { AuditPage, AuditQuery, CacheStatus, ClientHistoryEntry, ClientWriteResult, ConnectOptions, DaemonStatus, NodeInfo, PolicyVersion, ResealResult, Timings } from './types.js'
import { watchChanges } from './watch.js'

const DEFAULT_TIMEOUT_MS = 15_000

/**
 * Connects to a credregd daemon through its unix socket (`{ socket, token? }`:
 * the token once the daemon has scoped tokens) or its TCP listener
 * (`{ url, token, ca? }`). Nothing is sent until the first call: a
 * daemon that is not there shows up as `UNAVAILABLE` on that call. A plain
 * `http:` URL to a host other than a loopback address throws `INVALID_CONFIG`
 * at once: the token is never sent in clear over the network.
 */
export function connect (options: ConnectOptions): CredregClient {
  return new CredregClient(options)
}

/**
 * A connection to one daemon. Every method rejects with a {@link CredregError}:
 * the daemon's own code (`NOT_FOUND`, `VERSION_CONFLICT` as a
 * `VersionConflictError` with `currentVersion`, `INVALID_KEY`, `PATCH_FAILED`,
 * a refused changeset as a `ChangesetError` with `failures`…),
 * `UNAVAILABLE` when the daemon cannot be reached, `TIMEOUT` past `timeoutMs`,
 * and `CLOSED` after {@link CredregClient.close}. It plays the node's roles
 * with the daemon's shapes: its history entries have no value and its write
 * results no `seq`.
 */
export class CredregClient implements CredregReader<ClientHistoryEntry>, CredregWriter<ClientWriteResult>, CredregRotations, CredregAdmin, AsyncDisposable {
  readonly #http: Http
  readonly #reconnect: Required<NonNullable<ConnectOptions['reconnect']>>
  readonly #cache: ReadCache | undefined

  constructor (options: ConnectOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('connect() takes { socket, token? } or { url, token }')
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new TypeError('timeoutMs must be a non-negative integer')
    if ('socket' in options && typeof options.socket === 'string' && options.socket !== '') {
      const { token } = options
      if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))) throw new TypeError('token must be a non-empty string of visible ASCII characters')
      this.#http = new Http({ socket: options.socket, ...(token !== undefined ? { token } : {}) }, timeoutMs)
    } else if ('url' in options && typeof options.url === 'string' && typeof options.token === 'string') {
      if (!/^https?:$/.test(new URL(options.url).protocol)) throw new TypeError(`url must be http: or https:, got ${options.url}`)
      this.#http = new Http({ url: options.url, token: options.token, ...(options.ca !== undefined ? { ca: options.ca } : {}) }, timeoutMs)
    } else {
      throw new TypeError('connect() takes { socket, token? } or { url, token }')
    }
    this.#reconnect = { initialDelayMs: 250, maxDelayMs: 5000, idleTimeoutMs: 45_000, ...options.reconnect }
    this.#cache = options.cache === undefined ? undefined : this.#readCache(options.cache)
  }

  /**
   * The latest version of `key`, `options.version` from its history, or with
   * `stage: 'pending'` the value an open rotation stages for it. Rejects with `NOT_FOUND`.
   * With `connect({ cache })`, the latest version of a key under a cached
   * prefix comes from memory when it can (see `CacheOptions`).
   */
  async get (key: string, options: GetOptions = {}): Promise<Entity> {
    if (this.#cache !== undefined && options.version === undefined && options.stage === undefined) {
      return await this.#cache.get(key, async () => await this.#get(key, ''))
    }
    if (options.stage !== undefined && options.stage !== 'pending') throw new CredregError('BAD_REQUEST', `stage must be 'pending', got ${JSON.stringify(options.stage)}`)
    const query = options.version !== undefined ? `?version=${integer(options.version, 'version')}` : options.stage === 'pending' ? '?stage=pending' : ''
    return await this.#get(key, query)
  }

  /**
   * Writes `value` as the next version of `key`. `ifVersion` makes it
   * conditional (`If-Match`), `ifExists` update-only (`If-Match: *`), `ifAbsent`
   * create-only (`If-None-Match: *`); a lost condition rejects with `VersionConflictError`.
   */
  async put (key: string, value: JsonObject, options: PutOptions = {}): Promise<ClientWriteResult> {
    const headers = writeHeaders(options)
    if (options.ifAbsent === true) headers['if-none-match'] = '*'
    return await this.#write({ method: 'PUT', path: entityPath(key), key, headers, body: JSON.stringify(value) })
  }

  /** Applies RFC 6902 operations to the latest version. A patch that cannot apply rejects with `PATCH_FAILED`. */
  async patch (key: string, ops: PatchOperation[], options: ConditionalOptions = {}): Promise<ClientWriteResult> {
    const headers = { ...writeHeaders(options), 'content-type': 'application/json-patch+json' }
    return await this.#write({ method: 'PATCH', path: entityPath(key), key, headers, body: JSON.stringify(ops) })
  }

  /** Applies an RFC 7396 merge patch (`null` removes a member) to the latest version. */
  async merge (key: string, patch: JsonObject, options: ConditionalOptions = {}): Promise<ClientWriteResult> {
    const headers = { ...writeHeaders(options), 'content-type': 'application/merge-patch+json' }
    return await this.#write({ method: 'PATCH', path: entityPath(key), key, headers, body: JSON.stringify(patch) })
  }

  /** Deletes `key`: the result's version is its tombstone. */
  async delete (key: string, options: ConditionalOptions = {}): Promise<ClientWriteResult> {
    return await this.#write({ method: 'DELETE', path: entityPath(key), key, headers: writeHeaders(options) })
  }

  /**
   * Writes every change or none (`POST /v1/changesets`), each key at its next
   * version, at one log sequence; resolves with `{ id, seq, correlationId,
   * results }` (one `{ key, version, created }` per change, in order) once the
   * daemon's replica applied it. At most 64 changes, each key once; a malformed
   * changeset rejects with `BAD_REQUEST`, `INVALID_KEY` or `INVALID_VALUE`
   * before anything is sent, as the daemon would. A failed condition or change
   * rejects with a `ChangesetError` whose `failures` name every key that failed
   * (`VERSION_CONFLICT` with `expectedVersion` and `currentVersion`,
   * `NOT_FOUND`, `PATCH_FAILED`); values together over the size of one record
   * reject with `VALUE_TOO_LARGE`. Nothing is written then.
   */
  async commit (changes: Change[], options: CommitOptions = {}): Promise<CommitResult> {
    const checked = checkChanges(changes)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (options.correlationId !== undefined) headers['x-correlation-id'] = options.correlationId
    const { json } = await this.#http.request({ method: 'POST', path: '/v1/changesets', headers, body: JSON.stringify({ changes: checked }) })
    this.#cache?.committed(checked, json as CommitResult)
    return json as CommitResult
  }

  /** Live keys starting with `prefix`, in key order, one page at a time (pass `next` back as `after`). */
  async list (prefix = '', options: ListOptions = {}): Promise<ListPage> {
    assertPrefix(prefix)
    const query = new URLSearchParams()
    if (prefix !== '') query.set('prefix', prefix)
    if (options.limit !== undefined) query.set('limit', String(integer(options.limit, 'limit')))
    if (options.after !== undefined) query.set('after', options.after)
    const q = query.toString()
    const { json } = await this.#http.request({ method: 'GET', path: `/v1/entities${q === '' ? '' : `?${q}`}` })
    return json as ListPage
  }

  /** The retained versions of `key`, oldest first. Rejects with `NOT_FOUND` for a key never seen. */
  async history (key: string): Promise<ClientHistoryEntry[]> {
    const { json } = await this.#http.request({ method: 'GET', path: `/v1/history/${encodeKey(key)}`, key })
    return (json as { versions: ClientHistoryEntry[] }).versions
  }

  /**
   * Changes to keys starting with `prefix`, in log order: after `since` when
   * given, else from now on. The iterator reconnects on its own (with backoff)
   * and resumes where it stopped, so a daemon restart neither loses nor repeats
   * a change, even inside a changeset (whose changes share one `seq`). A `resync` event (a key whose missed changes are no longer
   * retained) carries the key's current state and may come again after a
   * reconnect. It ends when `signal` aborts, when the loop breaks or `return()`
   * is called, or when the client closes; it throws only errors that retrying
   * cannot fix (e.g. `UNAUTHORIZED`, `LOG_DIVERGED`).
   */
  watch (prefix = '', options: WatchOptions = {}): AsyncIterableIterator<ChangeEvent> {
    const since = options.since === undefined ? undefined : integer(options.since, 'since')
    const closed = this.#http.closed
    if (closed.aborted) return failed(closed.reason)
    try {
      assertPrefix(prefix)
    } catch (err) {
      return failed(err)
    }
    const signal = options.signal === undefined ? closed : AbortSignal.any([closed, options.signal])
    return watchChanges({ http: this.#http, prefix, since, signal, ...this.#reconnect })
  }

  /**
   * Stages `changes` as a rotation waiting for `hosts` (default: every host
   * the daemon heard from and alive); resolves with the rotation, 201.
   * `ROTATION_REFUSED` when an open rotation stages one of the keys already.
   */
  async stage (changes: Change[], options: StageOptions = {}): Promise<Rotation> {
    const body = {
      changes,
      ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
      ...(options.deadlineSeconds !== undefined ? { deadlineSeconds: integer(options.deadlineSeconds, 'deadlineSeconds') } : {})
    }
    return await this.#rotationRequest('POST', '/v1/rotations', body, options.correlationId)
  }

  /** A rotation and where it stands, each host's `holds` as the daemon heard it. `NOT_FOUND` when never staged. */
  async rotation (id: string): Promise<Rotation> {
    return await this.#rotationRequest('GET', rotationPath(id))
  }

  /** The open rotations, oldest first. */
  async rotations (): Promise<Rotation[]> {
    return ((await this.#http.request({ method: 'GET', path: '/v1/rotations' })).json as { rotations: Rotation[] }).rotations
  }

  /** The daemon's host acknowledges the rotation: ok, or failed with a message. */
  async ack (id: string, options: AckOptions): Promise<Rotation> {
    const body = { ok: options.ok, ...(options.message !== undefined ? { message: options.message } : {}) }
    return await this.#rotationRequest('POST', `${rotationPath(id)}/acks`, body, options.correlationId)
  }

  /** Releases the rotation as one changeset. `ROTATION_REFUSED` with the reason when acknowledgements are missing, a key moved or it is closed. */
  async release (id: string, options: ReleaseOptions = {}): Promise<Rotation> {
    return await this.#rotationRequest('POST', `${rotationPath(id)}/release`, options.force !== undefined ? { force: options.force } : {}, options.correlationId)
  }

  /** Closes the rotation without releasing it. `ROTATION_REFUSED` when it is closed already. */
  async abort (id: string, options: AbortOptions = {}): Promise<Rotation> {
    return await this.#rotationRequest('POST', `${rotationPath(id)}/abort`, options.reason !== undefined ? { reason: options.reason } : {}, options.correlationId)
  }

  /**
   * Rotation events (`staged`, `acked`, `released`, `aborted`) as the daemon
   * applies them, live only. It does not reconnect: a lost connection ends it
   * with `UNAVAILABLE` (events may have been missed; read the rotations with
   * `rotation(id)` and watch again). Ends when `signal` aborts, the loop
   * breaks, or the client closes.
   */
  watchRotations (options: RotationWatchOptions = {}): AsyncIterableIterator<RotationEvent> {
    const closed = this.#http.closed
    if (closed.aborted) return failed(closed.reason)
    const signal = options.signal === undefined ? closed : AbortSignal.any([closed, options.signal])
    return watchRotationEvents({ http: this.#http, signal, idleTimeoutMs: this.#reconnect.idleTimeoutMs })
  }

  /** The daemon's view of itself: node id, mode, applied and log sequence, NATS connection. */
  async status (): Promise<DaemonStatus> {
    return (await this.#http.request({ method: 'GET', path: '/v1/status' })).json as DaemonStatus
  }

  /** Where the daemon's time goes: per stage of a write and of a record's propagation, the count and p50 / p99 (`GET /v1/timings`). */
  async timings (): Promise<Timings> {
    return (await this.#http.request({ method: 'GET', path: '/v1/timings' })).json as Timings
  }

  /** Every daemon of the namespace heard from; with `key`, the version of it each one holds. */
  async nodes (options: { key?: string } = {}): Promise<NodeInfo[]> {
    if (options.key !== undefined) assertKey(options.key)
    const query = options.key !== undefined ? `?${new URLSearchParams({ key: options.key }).toString()}` : ''
    return (await this.#http.request({ method: 'GET', path: `/v1/nodes${query}` })).json as NodeInfo[]
  }

  /**
   * Restores the change log from this daemon's replica after the log lost its
   * store (see docs/guarantees.md); only when the daemon refuses the log, and
   * only on a client of its admin socket (elsewhere: `NOT_FOUND`).
   * Takes as long as the replica is large: no time bound unless `timeoutMs`.
   */
  async reseed (options: { timeoutMs?: number } = {}): Promise<ReseedResult> {
    return (await this.#http.request({ method: 'POST', path: '/v1/admin/reseed', timeoutMs: options.timeoutMs ?? 0 })).json as ReseedResult
  }

  /**
   * Mints a scoped token (admin socket only): resolves with it, told this once,
   * and its scope. `BAD_REQUEST` for a malformed scope or a name in use.
   */
  async createToken (options: CreateTokenBody): Promise<CreatedToken> {
    const { json } = await this.#http.request({ method: 'POST', path: '/v1/admin/tokens', body: JSON.stringify(options) })
    return json as CreatedToken
  }

  /** The scoped tokens' names and scopes (admin socket only), never a token or its hash. */
  async tokens (): Promise<TokenInfo[]> {
    return ((await this.#http.request({ method: 'GET', path: '/v1/admin/tokens' })).json as { tokens: TokenInfo[] }).tokens
  }

  /** Revokes the token `name` (admin socket only); `NOT_FOUND` when there is none. */
  async revokeToken (name: string): Promise<TokenInfo> {
    return (await this.#http.request({ method: 'DELETE', path: `/v1/admin/tokens/${encodeURIComponent(name)}` })).json as TokenInfo
  }

  /** The read cache's watches and size (`connect({ cache })`); `undefined` without a cache. */
  cacheStatus (): CacheStatus | undefined {
    return this.#cache?.status()
  }

  /**
   * The policy in force and its version (`GET /v1/admin/policy`). Rejects
   * with `NOT_FOUND` in open mode (no policy yet).
   */
  async policy (): Promise<PolicyVersion> {
    return (await this.#http.request({ method: 'GET', path: '/v1/admin/policy' })).json as PolicyVersion
  }

  /**
   * Carries `record`, the next version of the policy built and signed by the
   * admin key (`buildPolicyRecord`), to the log (`PUT /v1/admin/policy`);
   * resolves once the daemon's replica applied it. `VERSION_CONFLICT` when it
   * is not the next version, `FORBIDDEN` when the admin key in force did not
   * sign it, `BAD_REQUEST` when it is not a policy record.
   */
  async putPolicy (record: object): Promise<ClientWriteResult> {
    return await this.#write({ method: 'PUT', path: '/v1/admin/policy', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ record }) })
  }

  /**
   * Writes again, under its read scope's current key, every live value under
   * `prefix` still sealed under an older key (`POST /v1/admin/reseal`), each
   * conditional on the version read. Takes as long as the scope is large: no
   * time bound unless `timeoutMs`.
   */
  async resealScope (prefix: string, options: { timeoutMs?: number } = {}): Promise<ResealResult> {
    assertPrefix(prefix)
    const req: HttpRequest = { method: 'POST', path: '/v1/admin/reseal', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prefix }), timeoutMs: options.timeoutMs ?? 0 }
    return (await this.#http.request(req)).json as ResealResult
  }

  /**
   * A page of the daemon's audit trail, oldest first (`GET /v1/audit`):
   * entries touching a key under `prefix`, written at or after `since`
   * (ISO-8601), after log sequence `after` (a page's `next`), at most `limit`
   * (1–1000, default 100). Under a policy, entries of keys the daemon's host
   * may not read are left out.
   */
  async audit (query: AuditQuery = {}): Promise<AuditPage> {
    const q = new URLSearchParams()
    if (query.prefix !== undefined && query.prefix !== '') {
      assertPrefix(query.prefix)
      q.set('prefix', query.prefix)
    }
    if (query.since !== undefined) q.set('since', query.since)
    if (query.after !== undefined) q.set('after', String(integer(query.after, 'after')))
    if (query.limit !== undefined) q.set('limit', String(integer(query.limit, 'limit')))
    const qs = q.toString()
    return (await this.#http.request({ method: 'GET', path: `/v1/audit${qs === '' ? '' : `?${qs}`}` })).json as AuditPage
  }

  /** Ends every request and watch in flight and closes the connections; later calls reject with `CLOSED`. Idempotent. */
  async close (): Promise<void> {
    await this.#http.close()
    await this.#cache?.stopped()
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }

  async #get (key: string, query: string): Promise<Entity> {
    const { json } = await this.#http.request({ method: 'GET', path: entityPath(key) + query, key })
    return json as Entity
  }

  #readCache (options: NonNullable<ConnectOptions['cache']>): ReadCache {
    return new ReadCache(options, {
      appliedSeq: async (signal) => ((await this.#http.request({ method: 'GET', path: '/v1/status', signal })).json as DaemonStatus).appliedSeq,
      watch: (prefix, since, signal, onLink) => watchChanges({ http: this.#http, prefix, since, signal, onLink, ...this.#reconnect }),
      closed: this.#http.closed,
      initialDelayMs: this.#reconnect.initialDelayMs,
      maxDelayMs: this.#reconnect.maxDelayMs
    })
  }

  async #rotationRequest (method: 'GET' | 'POST', path: string, body?: object, correlationId?: string): Promise<Rotation> {
    const headers: Record<string, string> = {}
    if (correlationId !== undefined) headers['x-correlation-id'] = correlationId
    const req: HttpRequest = { method, path, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }
    return (await this.#http.request(req)).json as Rotation
  }

  async #write (req: HttpRequest): Promise<ClientWriteResult> {
    const { status, headers, json } = await this.#http.request(req)
    const { key, version } = json as { key: string, version: number }
    this.#cache?.wrote(key, version, req.method === 'DELETE')
    const correlationId = headers['x-correlation-id']
    return { key, version, created: status === 201, ...(typeof correlationId === 'string' ? { correlationId } : {}) }
  }
}

async function * failed (err: unknown): AsyncGenerator<never, void, undefined> {
  throw err
}

/** `/v1/rotations/` and a rotation id (a uuid, else `BAD_REQUEST`, as the daemon would answer). */
function rotationPath (id: string): string {
  if (typeof id !== 'string' || !isUuid(id)) throw new CredregError('BAD_REQUEST', `a rotation id is a uuid, got ${JSON.stringify(id)}`)
  return `/v1/rotations/${id}`
}

/** `/v1/entities/` and the key. */
function entityPath (key: string): string {
  return `/v1/entities/${encodeKey(key)}`
}

/** A valid key (else `INVALID_KEY`, as the daemon would answer) with each `/`-separated segment percent-encoded. */
function encodeKey (key: string): string {
  assertKey(key)
  return key.split('/').map(encodeURIComponent).join('/')
}

function writeHeaders (options: ConditionalOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  if (options.ifVersion !== undefined && options.ifExists === true) throw new CredregError('BAD_REQUEST', 'ifVersion and ifExists exclude each other')
  if (options.ifVersion !== undefined) headers['if-match'] = `"${integer(options.ifVersion, 'ifVersion')}"`
  if (options.ifExists === true) headers['if-match'] = '*'
  if (options.correlationId !== undefined) headers['x-correlation-id'] = options.correlationId
  return headers
}

function integer (n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(n)}`)
  return n
}
