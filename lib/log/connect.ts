/** Opens a NATS connection from credreg's {@link NatsOptions}. */
import { credsAuthenticator, nkeyAuthenticator, nkeys, type NatsConnection } from '@nats-io/nats-core'
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node'
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError } from '../errors.js'
import { readSecretFile } from '../secret-file.js'
import type { NatsOptions } from '../types.js'
import { splitCredentials } from './nats-url.js'

// Between connect attempts: doubling from the first to the most, so a server
// coming back is found within seconds and one staying away costs little.
const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 2000

/**
 * The nats.js connection options for `options`; the connection reconnects
 * forever once established. Credentials in a server URL (`user:pass@`,
 * `token@`) are used when none are given otherwise, and never left in the URL.
 */
export function connectionOptions (options: NatsOptions, secrets: NatsSecrets = {}): NodeConnectionOptions {
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
  if (inUrl !== undefined && options.user === undefined && options.token === undefined && options.credsFile === undefined && options.nkeyFile === undefined) {
    if (inUrl.user !== undefined) opts.user = inUrl.user
    if (inUrl.pass !== undefined) opts.pass = inUrl.pass
    if (inUrl.token !== undefined) opts.token = inUrl.token
  }
  if (options.inboxPrefix !== undefined) opts.inboxPrefix = options.inboxPrefix
  if (options.user !== undefined) opts.user = options.user
  if (options.pass !== undefined) opts.pass = options.pass
  if (options.token !== undefined) opts.token = options.token
  if (secrets.creds !== undefined) opts.authenticator = credsAuthenticator(secrets.creds)
  else if (secrets.seed !== undefined) opts.authenticator = nkeyAuthenticator(secrets.seed)
  if (options.tls !== undefined) {
    opts.tls = {
      ...(options.tls.caFile !== undefined ? { caFile: options.tls.caFile } : {}),
      ...(options.tls.certFile !== undefined ? { certFile: options.tls.certFile } : {}),
      ...(options.tls.keyFile !== undefined ? { keyFile: options.tls.keyFile } : {})
    }
  }
  return opts
}

/** The contents of the secrets files of {@link NatsOptions}. */
export interface NatsSecrets {
  creds?: Uint8Array
  seed?: Uint8Array
}

/**
 * Reads `credsFile` and `nkeyFile` (each a secrets file, read afresh on each
 * connect so a rotated file is picked up); `INVALID_CONFIG` when one is refused
 * or the seed is not a user nkey seed.
 */
export async function readNatsSecrets (options: NatsOptions): Promise<NatsSecrets> {
  const secrets: NatsSecrets = {}
  if (options.credsFile !== undefined) secrets.creds = await readSecretFile(options.credsFile, 'NATS creds file')
  if (options.nkeyFile !== undefined) {
    const seed = new TextEncoder().encode((await readSecretFile(options.nkeyFile, 'NATS nkey seed file')).toString('latin1').trim())
    let user = false
    try {
      user = nkeys.fromSeed(seed).getPublicKey().startsWith('U')
    } catch {}
    if (!user) throw new CredregError('INVALID_CONFIG', `NATS nkey seed file ${options.nkeyFile} does not hold a user nkey seed (SU…); make one with nk -gen user`)
    secrets.seed = seed
  }
  return secrets
}

/** Connects once; rejects when no server can be reached right now. */
export async function connectNats (options: NatsOptions): Promise<NatsConnection> {
  return await connect(connectionOptions(options, await readNatsSecrets(options)))
}

/**
 * Connects, retrying with a growing pause until a server answers; resolves
 * with the connection, or `undefined` once `signal` aborts (a connection
 * made as it aborts is closed, never handed out). `onFailure` hears every
 * failed attempt. Once connected, nats.js reconnects on its own.
 */
export async function connectWithBackoff (options: NatsOptions, signal: AbortSignal, onFailure: (err: Error) => void): Promise<NatsConnection | undefined> {
  let delay = FIRST_RETRY_MS
  while (!signal.aborted) {
    try {
      const nc = await connectNats(options)
      if (signal.aborted) {
        await nc.close()
        return undefined
      }
      return nc
    } catch (err) {
      onFailure(err as Error)
      await sleep(delay, undefined, { signal }).catch(() => {})
      delay = Math.min(delay * 2, MAX_RETRY_MS)
    }
  }
  return undefined
}
