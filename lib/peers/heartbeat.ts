/**
 * Heartbeats: every node publishes its progress, tagged with the namespace
 * key, on the core NATS subject `credreg.<namespace>.hb` every interval, and
 * keeps the table of the peers it has heard from. A newcomer (or a restarted
 * peer) is answered with one extra heartbeat at a random point of half an
 * interval, coalesced with any other newcomer of that window.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import type { Authenticator } from '../authenticator.js'
import type { CredregNode, Logger } from '../types.js'
import { CoalescedJitter } from './coalesced-jitter.js'
import { heartbeatSubject, readHeartbeat, signHeartbeat } from './heartbeat-record.js'
import type { IgnoredMessages } from './ignored-messages.js'
import { PeerTable, type Peer } from './peer-table.js'

/** The least time between two "peer table full" warnings. */
const FULL_WARNING_MS = 60_000

/** What a heartbeat says about this node, besides its progress. */
export interface SelfInfo {
  hostname: string
  /** The credreg version it runs. */
  version: string
  /** When it started: with a counter, orders its heartbeats; a later start is a restart. */
  startedAt: Date
}

/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  nc: NatsConnection
  node: CredregNode
  /** The namespace key's authenticator: tags this node's heartbeats, checks the peers'. */
  authenticator: Authenticator
  self: SelfInfo
  intervalMs: number
  logger: Logger
  ignored: IgnoredMessages
}

/** Publishes this node's heartbeats and records its peers'. */
export class Heartbeat {
  readonly #o: HeartbeatOptions
  readonly #table: PeerTable
  readonly #subject: string
  readonly #sub: Subscription
  readonly #timer: NodeJS.Timeout
  readonly #answer: CoalescedJitter
  readonly #received: Promise<void>
  #beat = 0
  #lastFullWarning = -Infinity

  /** Subscribes and publishes a first heartbeat right away. */
  constructor (options: HeartbeatOptions) {
    this.#o = options
    this.#table = new PeerTable({ intervalMs: options.intervalMs })
    this.#subject = heartbeatSubject(options.node.namespace)
    this.#answer = new CoalescedJitter(options.intervalMs / 2, () => { void this.#publish() })
    this.#sub = options.nc.subscribe(this.#subject)
    this.#received = this.#receive()
    this.#timer = setInterval(() => { this.#sweep(); void this.#publish() }, options.intervalMs)
    void this.#publish()
  }

  /** Every peer in the table (not this node), alive or gone, most recently heard first. */
  peers (): Peer[] {
    return this.#table.peers()
  }

  /** How many peers are alive. */
  alive (): number {
    return this.#table.alive()
  }

  /** Stops publishing and listening. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    this.#answer.close()
    this.#sub.unsubscribe()
    await this.#received
  }

  async #publish (): Promise<void> {
    const { nc, node, self, authenticator, logger } = this.#o
    try {
      const s = await node.nodeStatus()
      const record = signHeartbeat(authenticator, {
        namespace: s.namespace,
        nodeId: s.nodeId,
        hostname: self.hostname,
        startedAt: self.startedAt.toISOString(),
        beat: ++this.#beat,
        appliedSeq: s.appliedSeq,
        logSeq: s.logSeq,
        version: self.version
      })
      if (!nc.isClosed() && !nc.isDraining()) nc.publish(this.#subject, JSON.stringify(record))
    } catch (err) {
      logger.debug({ err }, 'heartbeat not published')
    }
  }

  #sweep (): void {
    for (const peer of this.#table.sweep()) {
      this.#o.logger.info({ peer: peer.nodeId, hostname: peer.hostname, lastSeen: new Date(peer.lastSeen).toISOString() }, 'a peer went silent')
    }
  }

  async #receive (): Promise<void> {
    const { node, authenticator, logger, ignored } = this.#o
    for await (const msg of this.#sub) {
      const read = readHeartbeat(authenticator, node.namespace, msg.data)
      if ('ignored' in read) {
        ignored.note('heartbeat', read.ignored)
        continue
      }
      const hb = read.record
      if (hb.nodeId === node.nodeId) continue
      const { tag: _tag, v: _v, ...fields } = hb
      const result = this.#table.offer(fields)
      if (result === 'stale') {
        ignored.note('heartbeat', 'stale')
      } else if (result === 'full') {
        ignored.note('heartbeat', 'table-full')
        this.#warnFull()
      } else if (result !== 'updated') {
        logger.info({ peer: hb.nodeId, hostname: hb.hostname, startedAt: hb.startedAt }, result === 'new' ? 'heard from a new peer' : 'a peer restarted')
        // So the newcomer need not wait a whole interval to learn of this node; jittered and coalesced, so it is not answered by every host at once.
        this.#answer.request()
      }
    }
  }

  #warnFull (): void {
    const now = Date.now()
    if (now - this.#lastFullWarning < FULL_WARNING_MS) return
    this.#lastFullWarning = now
    this.#o.logger.warn({ cap: this.#table.cap }, 'the peer table is full: new peers are not added (at most one such line a minute)')
  }
}
