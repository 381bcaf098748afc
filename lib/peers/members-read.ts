/**
 * One read of the membership stream: the last record of every node's
 * subject, through a consumer that delivers the last message per subject,
 * made for this read and deleted after it. Only who asks reads, and a read
 * costs one message per host, whatever the fleet did in between.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { nanos, nuid } from '@nats-io/nats-core'
import type { Authenticator } from '../authenticator.js'
import { membersFilter, readHeartbeat, type HeartbeatFields } from './heartbeat-record.js'
import type { IgnoredMessages } from './ignored-messages.js'
import { membersStreamName } from './members-stream.js'

/** The most records pulled per request: a read of 10,000 hosts (about 4 MB) in one pull. */
const PULL_BATCH = 10_000
/** A read that receives nothing for this long is over (the records aged out meanwhile). */
const IDLE_MS = 2000
/** The server removes the read's consumer this long after its last use, should the delete be lost. */
const CONSUMER_INACTIVE_MS = 30_000

/** A record read, with when its node wrote it (ms). */
export interface MemberRecord {
  fields: HeartbeatFields
  seenAt: number
}

/** What a read needs. */
export interface MembersReadOptions {
  js: JetStreamClient
  jsm: JetStreamManager
  namespace: string
  authenticator: Authenticator
  ignored: IgnoredMessages
  /** The most records taken; the rest of the stream is left unread. */
  cap: number
}

/**
 * Every record of the stream that verifies, each no later than the server
 * stored it (a clock ahead does not make a node look fresher than it is).
 * Records that do not verify are counted in `ignored`. A stream that does not
 * exist yet holds nobody.
 */
export async function readMembers (o: MembersReadOptions): Promise<MemberRecord[]> {
  const stream = membersStreamName(o.namespace)
  let total: number
  try {
    total = (await o.jsm.streams.info(stream)).state.messages
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return []
    throw err
  }
  if (total === 0) return []
  const name = `credreg_read_${nuid.next()}`
  const info = await o.jsm.consumers.add(stream, {
    name,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subject: membersFilter(o.namespace),
    inactive_threshold: nanos(CONSUMER_INACTIVE_MS),
    mem_storage: true,
    num_replicas: 1
  })
  const records: MemberRecord[] = []
  try {
    // From the info the creation returned: no second request (nor the right to ask for consumer info).
    const messages = await o.js.consumers.getConsumerFromInfo(info).consume({ max_messages: Math.min(total, PULL_BATCH) })
    let idle = setTimeout(() => { messages.stop() }, IDLE_MS)
    try {
      let read = 0
      for await (const m of messages) {
        clearTimeout(idle)
        idle = setTimeout(() => { messages.stop() }, IDLE_MS)
        const r = readHeartbeat(o.authenticator, o.namespace, m.subject, m.data)
        if ('ignored' in r) {
          o.ignored.note('heartbeat', r.ignored)
        } else {
          const { v: _v, tag: _tag, ...fields } = r.record
          const stored = m.time.getTime()
          records.push({ fields, seenAt: Math.min(Date.parse(fields.at), stored) })
        }
        if (m.info.pending === 0 || ++read >= o.cap) break
      }
    } finally {
      clearTimeout(idle)
      messages.stop()
    }
  } finally {
    await o.jsm.consumers.delete(stream, name).catch(() => {})
  }
  return records
}
