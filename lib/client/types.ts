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
}

/** Reach the daemon of this host through its unix socket (no token needed: the socket's mode guards it). */
export interface SocketConnectOptions extends ClientOptions {
  /** Path of the daemon's socket, e.g. `/var/lib/credreg/credregd.sock`. */
  socket: string
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
