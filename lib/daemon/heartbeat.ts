/**
 * Heartbeats: every daemon publishes its progress on the core NATS subject
 * `credreg.<namespace>.hb` every few seconds, and keeps the table of the
 * peers it has heard from.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { CredregNode, Logger } from '../types.js'

/** The wire record of a heartbeat (schema version 1). */
export const HeartbeatSchema = Type.Object({
  v: Type.Literal(1),
  nodeId: Type.String({ minLength: 1, maxLength: 128 }),
  hostname: Type.String({ maxLength: 255 }),
  namespace: Type.String(),
  /** Last log sequence the node applied. */
  appliedSeq: Type.Integer({ minimum: 0 }),
  /** Last log sequence the node knows of. */
  logSeq: Type.Integer({ minimum: 0 }),
  /** credreg version the node runs. */
  version: Type.String({ maxLength: 64 }),
  startedAt: Type.String({ maxLength: 64 })
})

export type HeartbeatRecord = Static<typeof HeartbeatSchema>

/** A peer as last heard from. */
export interface Peer extends HeartbeatRecord {
  /** `Date.now()` when its last heartbeat arrived. */
  lastSeen: number
}

const checkHeartbeat = Compile(HeartbeatSchema)

/** The heartbeat subject of a namespace. */
export function heartbeatSubject (namespace: string): string {
  return `credreg.${namespace}.hb`
}

/** What a heartbeat says about this node, besides its progress. */
export interface SelfInfo { hostname: string, version: string, startedAt: Date }

/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  nc: NatsConnection
  node: CredregNode
  self: SelfInfo
  intervalMs: number
  logger: Logger
}

/** Publishes this node's heartbeats and records its peers'. */
export class Heartbeat {
  readonly #o: HeartbeatOptions
  readonly #peers = new Map<string, Peer>()
  readonly #subject: string
  readonly #sub: Subscription
  readonly #timer: NodeJS.Timeout
  readonly #received: Promise<void>

  /** Subscribes and publishes a first heartbeat right away. */
  constructor (options: HeartbeatOptions) {
    this.#o = options
    this.#subject = heartbeatSubject(options.node.namespace)
    this.#sub = options.nc.subscribe(this.#subject)
    this.#received = this.#receive()
    this.#timer = setInterval(() => { void this.#publish() }, options.intervalMs)
    void this.#publish()
  }

  /** Every peer heard from (not this node), most recently heard first. */
  peers (): Peer[] {
    return [...this.#peers.values()].sort((a, b) => b.lastSeen - a.lastSeen)
  }

  /** Stops publishing and listening. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    this.#sub.unsubscribe()
    await this.#received
  }

  async #publish (): Promise<void> {
    const { nc, node, self, logger } = this.#o
    try {
      const s = await node.nodeStatus()
      const record: HeartbeatRecord = {
        v: 1,
        nodeId: s.nodeId,
        hostname: self.hostname,
        namespace: s.namespace,
        appliedSeq: s.appliedSeq,
        logSeq: s.logSeq,
        version: self.version,
        startedAt: self.startedAt.toISOString()
      }
      if (!nc.isClosed() && !nc.isDraining()) nc.publish(this.#subject, JSON.stringify(record))
    } catch (err) {
      logger.debug({ err }, 'heartbeat not published')
    }
  }

  async #receive (): Promise<void> {
    const { node, logger } = this.#o
    for await (const msg of this.#sub) {
      let record: unknown
      try {
        record = msg.json()
      } catch {
        record = undefined
      }
      if (!checkHeartbeat.Check(record) || record.namespace !== node.namespace) {
        logger.debug({ subject: msg.subject }, 'ignored a malformed heartbeat')
        continue
      }
      if (record.nodeId === node.nodeId) continue
      const known = this.#peers.has(record.nodeId)
      this.#peers.set(record.nodeId, { ...record, lastSeen: Date.now() })
      if (!known) {
        logger.info({ peer: record.nodeId, hostname: record.hostname }, 'heard from a new peer')
        // Answer a newcomer at once, so it need not wait a whole interval to learn of this node.
        void this.#publish()
      }
    }
  }
}
