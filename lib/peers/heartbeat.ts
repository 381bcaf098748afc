/**
 * Heartbeats: every node writes its progress, tagged with the namespace key,
 * as the last record of its own subject in the membership stream, once an
 * interval. It hears nobody's: the others' records are read only when the
 * nodes view is asked for (member-directory.ts). A write costs the same
 * whether the namespace has three hosts or ten thousand.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { Authenticator } from '../authenticator.js'
import type { CredregNode, Logger } from '../types.js'
import { memberSubject, signHeartbeat } from './heartbeat-record.js'
import { ensureMembersStream } from './members-stream.js'

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
  js: JetStreamClient
  jsm: JetStreamManager
  node: CredregNode
  /** The namespace key's authenticator: tags this node's records. */
  authenticator: Authenticator
  self: SelfInfo
  intervalMs: number
  /** Replicas of the membership stream, should this node create it. */
  replicas?: number
  logger: Logger
}

/** Writes this node's membership record every interval. */
export class Heartbeat {
  readonly #o: HeartbeatOptions
  readonly #subject: string
  readonly #timer: NodeJS.Timeout
  #writing: Promise<void> | undefined
  #streamReady = false
  #beat = 0
  #lastFailure = ''

  /** Writes a first record right away (creating the stream if it is missing). */
  constructor (options: HeartbeatOptions) {
    this.#o = options
    this.#subject = memberSubject(options.node.namespace, options.node.nodeId)
    this.#timer = setInterval(() => { this.#tick() }, options.intervalMs)
    this.#tick()
  }

  /** Stops writing; the last record ages out of the stream on its own. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.#writing
  }

  // A write still under way (NATS slow or away) is not doubled by the next tick.
  #tick (): void {
    if (this.#writing !== undefined) return
    this.#writing = this.#write().finally(() => { this.#writing = undefined })
  }

  async #write (): Promise<void> {
    const { js, jsm, node, self, authenticator, intervalMs, replicas, logger } = this.#o
    try {
      if (!this.#streamReady) {
        await ensureMembersStream(jsm, node.namespace, intervalMs, replicas)
        this.#streamReady = true
      }
      const s = await node.nodeStatus()
      const record = signHeartbeat(authenticator, {
        namespace: s.namespace,
        nodeId: s.nodeId,
        hostname: self.hostname,
        startedAt: self.startedAt.toISOString(),
        beat: ++this.#beat,
        at: new Date().toISOString(),
        appliedSeq: s.appliedSeq,
        logSeq: s.logSeq,
        version: self.version
      })
      await js.publish(this.#subject, JSON.stringify(record), { timeout: Math.max(intervalMs, 2000) })
      this.#lastFailure = ''
    } catch (err) {
      // The stream may have been deleted, or never made for want of rights: look again next time.
      this.#streamReady = false
      const reason = err instanceof Error ? err.message : String(err)
      if (reason !== this.#lastFailure) logger.warn({ err, subject: this.#subject }, 'membership record not written; retrying every interval')
      this.#lastFailure = reason
    }
  }
}
