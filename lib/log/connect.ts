/** Opens a NATS connection from credreg's {@link NatsOptions}. */
import { readFileSync } from 'node:fs'
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core'
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node'
import type { NatsOptions } from '../types.js'
import { splitCredentials } from './nats-url.js'

/**
 * The nats.js connection options for `options`; the connection reconnects
 * forever once established. Credentials in a server URL (`user:pass@`,
 * `token@`) are used when none are given otherwise, and never left in the URL.
 */
export function connectionOptions (options: NatsOptions): NodeConnectionOptions {
  const listed = Array.isArray(options.servers) ? options.servers : options.servers.split(',').map(s => s.trim()).filter(Boolean)
  // nats.js ignores credentials in a URL but keeps the URL: take them out, and use them unless given apart.
  const split = listed.map(splitCredentials)
  const inUrl = split.find(s => s.user !== undefined || s.token !== undefined)
  const opts: NodeConnectionOptions = {
    servers: split.map(s => s.server),
    name: options.name ?? 'credreg',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    // Short pings so a paused or silently partitioned server is noticed in
    // seconds, not the default minutes: writes must fail fast, not hang.
    pingInterval: 3000,
    maxPingOut: 2,
    timeout: 2000
  }
  if (inUrl !== undefined && options.user === undefined && options.token === undefined && options.credsFile === undefined) {
    if (inUrl.user !== undefined) opts.user = inUrl.user
    if (inUrl.pass !== undefined) opts.pass = inUrl.pass
    if (inUrl.token !== undefined) opts.token = inUrl.token
  }
  if (options.user !== undefined) opts.user = options.user
  if (options.pass !== undefined) opts.pass = options.pass
  if (options.token !== undefined) opts.token = options.token
  if (options.credsFile !== undefined) opts.authenticator = credsAuthenticator(readFileSync(options.credsFile))
  if (options.tls !== undefined) {
    opts.tls = {
      ...(options.tls.caFile !== undefined ? { caFile: options.tls.caFile } : {}),
      ...(options.tls.certFile !== undefined ? { certFile: options.tls.certFile } : {}),
      ...(options.tls.keyFile !== undefined ? { keyFile: options.tls.keyFile } : {})
    }
  }
  return opts
}

/** Connects once; rejects when no server can be reached right now. */
export async function connectNats (options: NatsOptions): Promise<NatsConnection> {
  return await connect(connectionOptions(options))
}
