/**
 * The membership stream of a namespace, `CREDREG-MEMBERS_<namespace>`: one
 * subject per node (`credreg.<namespace>.m.<node>`), of which the stream
 * keeps only the last record, for as long as a stopped node is still listed
 * (`gone`) and no longer. A node writes its own record once an interval and
 * reads everyone's only when asked, so what a node costs does not grow with
 * the fleet; the stream holds one small record per host.
 *
 * The first node of a namespace creates it, as it creates the log stream;
 * one that exists is taken as it is.
 */
import { nanos } from '@nats-io/nats-core'
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream'
import { MAX_HEARTBEAT_BYTES, membersFilter } from './heartbeat-record.js'
import { GONE_AFTER_INTERVALS, KEEP_GONE_INTERVALS, PEER_CAP } from './peer-table.js'

/** The error code of a stream created meanwhile by someone else. */
const STREAM_NAME_IN_USE = 10058

/** The membership stream of `namespace`; `-` keeps it apart from every log stream (`CREDREG_<namespace>`). */
export function membersStreamName (namespace: string): string {
  return `CREDREG-MEMBERS_${namespace}`
}

/** How long the stream keeps a record: as long as a node that wrote it is listed, alive then gone. */
export function membersMaxAgeMs (intervalMs: number): number {
  return (GONE_AFTER_INTERVALS + KEEP_GONE_INTERVALS) * intervalMs
}

/** The configuration a node creates the stream with. */
export function membersStreamConfig (namespace: string, intervalMs: number, replicas = 1): Partial<StreamConfig> & { name: string } {
  const maxAgeMs = membersMaxAgeMs(intervalMs)
  return {
    name: membersStreamName(namespace),
    subjects: [membersFilter(namespace)],
    max_msgs_per_subject: 1,
    max_age: nanos(maxAgeMs),
    // As many as a peer table holds; beyond it the oldest records are dropped.
    max_msgs: PEER_CAP,
    // The server refuses what no honest node writes, before it takes any room.
    max_msg_size: MAX_HEARTBEAT_BYTES,
    // Nothing here outlives a few minutes: memory, and a server restart empties it for one interval.
    storage: StorageType.Memory,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
    // No message ids are used; the server would otherwise track two minutes of them.
    duplicate_window: nanos(Math.min(maxAgeMs, 1000))
  }
}

/** The stream's info, created when it does not exist. */
export async function ensureMembersStream (jsm: JetStreamManager, namespace: string, intervalMs: number, replicas?: number): Promise<StreamInfo> {
  const name = membersStreamName(namespace)
  try {
    return await jsm.streams.info(name)
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err
  }
  try {
    return await jsm.streams.add(membersStreamConfig(namespace, intervalMs, replicas))
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) return await jsm.streams.info(name)
    throw err
  }
}
