/**
 * The heartbeat wire record, schema version 2: what a node says of itself
 * every interval on `credreg.<namespace>.hb`, with a tag under the namespace
 * key's heartbeat subkey over every field (the sender's node id included), so
 * that only a holder of the data key can speak for a node. NATS publish
 * rights alone no longer add a host to anyone's table.
 */
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator, TagParts } from '../authenticator.js'
import type { IgnoreReason } from './ignored-messages.js'

/** The schema version of heartbeats; version 1 (untagged) is ignored. */
export const HEARTBEAT_VERSION = 2

/** Messages larger than this are dropped before they are parsed: a genuine one is well under 1 KiB. */
export const MAX_HEARTBEAT_BYTES = 2048

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

/** The wire record of a heartbeat. */
export const HeartbeatSchema = Type.Object({
  v: Type.Literal(HEARTBEAT_VERSION),
  namespace: Type.String({ minLength: 1, maxLength: 64 }),
  nodeId: Type.String({ minLength: 1, maxLength: 128 }),
  hostname: Type.String({ maxLength: 255 }),
  /** When the sending node started (ISO 8601): with `beat`, orders its heartbeats. */
  startedAt: Type.String({ minLength: 1, maxLength: 64 }),
  /** Heartbeats the node published since it started, this one included. */
  beat: Count,
  /** Last log sequence the node applied. */
  appliedSeq: Count,
  /** Last log sequence the node knows of. */
  logSeq: Count,
  /** credreg version the node runs. */
  version: Type.String({ maxLength: 64 }),
  /** base64url HMAC-SHA256 of {@link heartbeatParts}. */
  tag: Type.String({ maxLength: 64 })
}, { additionalProperties: false })

export type HeartbeatRecord = Static<typeof HeartbeatSchema>

/** What a heartbeat says, without its framing. */
export type HeartbeatFields = Omit<HeartbeatRecord, 'v' | 'tag'>

const checkHeartbeat = Compile(HeartbeatSchema)

/** The heartbeat subject of a namespace. */
export function heartbeatSubject (namespace: string): string {
  return `credreg.${namespace}.hb`
}

/** The canonical list of what a heartbeat's tag covers: every field, in a fixed order. */
export function heartbeatParts (f: HeartbeatFields): TagParts {
  return [HEARTBEAT_VERSION, f.namespace, f.nodeId, f.hostname, f.startedAt, f.beat, f.appliedSeq, f.logSeq, f.version]
}

/** The tagged wire record of `fields`. */
export function signHeartbeat (auth: Authenticator, fields: HeartbeatFields): HeartbeatRecord {
  return { v: HEARTBEAT_VERSION, ...fields, tag: auth.tag('heartbeat', heartbeatParts(fields)) }
}

/** A message read: the record, or why it is ignored. */
export type Read<T> = { record: T } | { ignored: IgnoreReason }

/** Parses and checks a heartbeat message of `namespace`: bounds, schema version, tag. */
export function readHeartbeat (auth: Authenticator, namespace: string, data: Uint8Array): Read<HeartbeatRecord> {
  if (data.byteLength > MAX_HEARTBEAT_BYTES) return { ignored: 'oversized' }
  const record = parseJson(data)
  if (typeof record === 'object' && record !== null && 'v' in record && record.v !== HEARTBEAT_VERSION) return { ignored: 'version' }
  if (!checkHeartbeat.Check(record) || record.namespace !== namespace || !Number.isFinite(Date.parse(record.startedAt))) return { ignored: 'malformed' }
  if (!auth.verify('heartbeat', heartbeatParts(record), record.tag)) return { ignored: 'forged' }
  return { record }
}

/** The JSON of a message, or `undefined`. */
export function parseJson (data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
}
