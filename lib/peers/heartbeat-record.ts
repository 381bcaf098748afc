/**
 * The membership record (a heartbeat), schema version 3: what a node says of
 * itself every interval, written as the last message of its own subject
 * `credreg.<namespace>.m.<node>` in the namespace's membership stream
 * (members-stream.ts). It carries a tag under the namespace key's heartbeat
 * subkey over every field (the node id and the time of writing included), so
 * that only a holder of the data key can speak for a node, and a record
 * written again later by someone else (a replay) still says when it was
 * first written.
 */
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator, TagParts } from '../authenticator.js'
import type { IgnoreReason } from './ignored-messages.js'

/** The schema version of membership records; versions 1 and 2 (core NATS heartbeats) are ignored. */
export const HEARTBEAT_VERSION = 3

/** Records larger than this are dropped before they are parsed (and refused by the stream): a genuine one is well under 1 KiB. */
export const MAX_HEARTBEAT_BYTES = 2048

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
const Time = Type.String({ minLength: 1, maxLength: 64 })

/** The wire record of a heartbeat. */
export const HeartbeatSchema = Type.Object({
  v: Type.Literal(HEARTBEAT_VERSION),
  namespace: Type.String({ minLength: 1, maxLength: 64 }),
  nodeId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
  hostname: Type.String({ maxLength: 255 }),
  /** When the sending node started (ISO 8601): with `beat`, orders its heartbeats. */
  startedAt: Time,
  /** Heartbeats the node wrote since it started, this one included. */
  beat: Count,
  /** When the node wrote this one (ISO 8601, its clock): how long ago it was last heard of. */
  at: Time,
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

/** The subjects of a namespace's membership records: one token per node. */
export function membersFilter (namespace: string): string {
  return `credreg.${namespace}.m.*`
}

/**
 * The subject of one node's membership record. A node id may hold dots
 * (`[A-Za-z0-9_.-]`), which NATS reads as token separators: they are written
 * as `~`, a character node ids cannot hold, so every node has one token of its own.
 */
export function memberSubject (namespace: string, nodeId: string): string {
  return `credreg.${namespace}.m.${nodeId.replaceAll('.', '~')}`
}

/** The canonical list of what a heartbeat's tag covers: every field, in a fixed order. */
export function heartbeatParts (f: HeartbeatFields): TagParts {
  return [HEARTBEAT_VERSION, f.namespace, f.nodeId, f.hostname, f.startedAt, f.beat, f.at, f.appliedSeq, f.logSeq, f.version]
}

/** The tagged wire record of `fields`. */
export function signHeartbeat (auth: Authenticator, fields: HeartbeatFields): HeartbeatRecord {
  return { v: HEARTBEAT_VERSION, ...fields, tag: auth.tag('heartbeat', heartbeatParts(fields)) }
}

/** A message read: the record, or why it is ignored. */
export type Read<T> = { record: T } | { ignored: IgnoreReason }

/**
 * Parses and checks a membership record of `namespace` found on `subject`:
 * bounds, schema version, that it sits on its node's own subject, tag.
 */
export function readHeartbeat (auth: Authenticator, namespace: string, subject: string, data: Uint8Array): Read<HeartbeatRecord> {
  if (data.byteLength > MAX_HEARTBEAT_BYTES) return { ignored: 'oversized' }
  const record = parseJson(data)
  if (typeof record === 'object' && record !== null && 'v' in record && record.v !== HEARTBEAT_VERSION) return { ignored: 'version' }
  if (!checkHeartbeat.Check(record) || record.namespace !== namespace || subject !== memberSubject(namespace, record.nodeId) ||
    !Number.isFinite(Date.parse(record.startedAt)) || !Number.isFinite(Date.parse(record.at))) return { ignored: 'malformed' }
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
