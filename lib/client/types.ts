/**
 * The contract of the client library: how to reach a daemon and what its
 * HTTP API answers. Every answer is one of the shapes of lib/shapes/, the
 * same the node and the HTTP API use.
 */
import type { NodeRow } from '../shapes/node-row.js'
import type { ReconnectOptions } from './watch.js'

export type { ReconnectOptions }
export type { ClientHistoryEntry } from '../shapes/history.js'
export type { DaemonStatus } from '../shapes/status.js'
export type { StageSummary, Timings } from '../shapes/timings.js'
export type { ClientWriteResult } from '../shapes/write-result.js'
export type { AuditEntry, AuditPage } from '../shapes/audit.js'
export type { PolicyVersion } from '../shapes/policy.js'
export type { ResealResult } from '../admin/reseal.js'

/** What to read of the audit trail (`client.audit`). */
export interface AuditQuery {
  /** Entries touching a key under it (default: all). */
  prefix?: string
  /** Entries written at or after this ISO-8601 time. */
  since?: string
  /** Entries after this log sequence: the `next` of the page before. */
  after?: number
  /** At most this many entries (1–1000, default 100). */
  limit?: number
}

/** Options shared by both ways of connecting. */
export interface ClientOptions {
  /** Bound of each request, in milliseconds (default 15000; 0 for none). A request over it fails with `TIMEOUT`. */
  timeoutMs?: number
  /** How `watch` reconnects after the daemon goes away. */
  reconnect?: ReconnectOptions
  /** Keep a copy of the keys `get` reads under these prefixes, fresh through watches (see {@link CacheOptions}). */
  cache?: CacheOptions
}

/**
 * The client's read cache: `get(key)` (latest version, no options) of a key
 * under one of `prefixes` is served from memory, kept fresh by one watch per
 * prefix. What it guarantees:
 *
 * - **Never backwards**: a key's cached version only grows, so a get never
 *   returns a version older than one an earlier get of this client returned.
 * - **Read-your-writes**: a write through this client (put, patch, merge,
 *   delete, commit) raises the cached version of its keys to the one the
 *   daemon answered before it resolves; a later get reads through until that
 *   version's value is known (a delete caches its tombstone at once).
 * - **Bounded staleness**: another writer's change is served once its watch
 *   event arrives (the event delay: the daemon applied it, then pushed it).
 *   While a watch is down (daemon restart, reconnecting) its keys are served
 *   from memory for at most `staleAfterMs`; after that every get of them reads
 *   through the daemon (and fails as the daemon does, e.g. `UNAVAILABLE`), and
 *   when the watch is back after such a gap its keys are dropped and refilled.
 * - **Same errors**: a cached tombstone answers `NOT_FOUND`; a key the daemon
 *   refuses (`FORBIDDEN`) or has never seen is never cached.
 *
 * `client.cacheStatus()` tells whether each watch is live, its last
 * sequence and how old that is.
 */
export interface CacheOptions {
  /** Key prefixes to cache (`''` for every key); no prefix may start with another. */
  prefixes: string[]
  /** Most keys held (default 10000); beyond it the least recently read goes. */
  maxKeys?: number
  /** How long cached keys are served while their watch is down (default 5000 ms). */
  staleAfterMs?: number
}

/** One watch of the read cache, as `cacheStatus()` reports it. */
export interface CacheWatchStatus {
  prefix: string
  /** Whether the watch stream is open now. */
  live: boolean
  /** Whether gets of its keys are served from memory now (live, or down for less than `staleAfterMs`). */
  serving: boolean
  /** Sequence of the last change event received, if any. */
  lastSeq?: number
  /** Milliseconds since that event. */
  lastEventAgeMs?: number
  /** Milliseconds since the watch went down (absent while live). */
  downForMs?: number
  /** The code of the last error that restarted the watch (e.g. `WATCH_OVERFLOW`), if any. */
  lastError?: string
}

/** What `cacheStatus()` answers. */
export interface CacheStatus {
  /** Keys held, and the bound. */
  keys: number
  maxKeys: number
  /** Gets answered from memory, and gets of cached prefixes read through. */
  hits: number
  misses: number
  watches: CacheWatchStatus[]
}

/**
 * Reach the daemon of this host through its unix socket. While the daemon has
 * no token the socket's mode alone guards it; once it has one, the apps'
 * socket wants a scoped token (the admin socket never does).
 */
export interface SocketConnectOptions extends ClientOptions {
  /** Path of the daemon's socket, e.g. `/var/lib/credreg/credregd.sock`. */
  socket: string
  /** A scoped token (`credreg admin token create`), sent as `Authorization: Bearer`. */
  token?: string
}

/**
 * Reach a daemon's TCP listener (`credregd --listen`), with the bearer token of
 * its `--token-file`. The token is only sent over HTTPS, or over plain HTTP to
 * a loopback address (127.0.0.0/8, ::1, localhost): `connect` refuses any
 * other `http:` URL with `INVALID_CONFIG` before anything is sent.
 */
export interface UrlConnectOptions extends ClientOptions {
  /** Base URL, e.g. `https://credreg.example:7420` or `http://127.0.0.1:7420`. */
  url: string
  token: string
  /** CA certificate(s), PEM, that the daemon's certificate must chain to instead of the system's (`https:` only). */
  ca?: string | Buffer
}

/** Options of {@link connect}: a unix socket or a URL plus token. */
export type ConnectOptions = SocketConnectOptions | UrlConnectOptions

/** One daemon of the namespace as heard through its heartbeats (`GET /v1/nodes`), this one first. */
export type NodeInfo = NodeRow
