/**
 * The peers of a node, read from the membership stream when asked for and
 * kept for a short while.
 *
 * Why on demand rather than a consumer that follows the stream: a consumer
 * following every host's record costs each node one message per host per
 * interval, 2,000 a second per node at 10,000 hosts, whether anyone looks or
 * not; that is the cost that grew with the fleet. A read costs one message
 * per host only when someone asks (`credreg nodes`, a rotation's default
 * hosts and `holds`), and concurrent or repeated asks within {@link
 * DEFAULT_CACHE_MS} share one read, so a burst of requests is one read.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { Authenticator } from '../authenticator.js'
import type { Logger } from '../types.js'
import type { IgnoredMessages } from './ignored-messages.js'
import { readMembers } from './members-read.js'
import { PeerTable, type Peer } from './peer-table.js'

/** How long a read answers later asks (at most an interval). */
export const DEFAULT_CACHE_MS = 1000
/** Peers named one by one in a log line; beyond, only counted. */
const NAMED_IN_LOG = 10

/** Options of {@link MemberDirectory}. */
export interface MemberDirectoryOptions {
  js: JetStreamClient
  jsm: JetStreamManager
  namespace: string
  /** This node: not among its peers. */
  nodeId: string
  authenticator: Authenticator
  intervalMs: number
  logger: Logger
  ignored: IgnoredMessages
  /** Default {@link DEFAULT_CACHE_MS}, and never more than an interval. */
  cacheMs?: number
  /** Default `Date.now`. */
  now?: () => number
}

export class MemberDirectory {
  readonly #o: MemberDirectoryOptions
  readonly #table: PeerTable
  readonly #cacheMs: number
  readonly #now: () => number
  #readAt = -Infinity
  #reading: Promise<void> | undefined
  #lastFailure = ''

  constructor (options: MemberDirectoryOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#table = new PeerTable({ intervalMs: options.intervalMs, now: this.#now })
    this.#cacheMs = Math.min(options.cacheMs ?? DEFAULT_CACHE_MS, options.intervalMs)
  }

  /**
   * Every peer (not this node), alive or gone, most recently heard first, as
   * of a read at most the cache's age old. A read that fails leaves the
   * table as it was (each row's `lastSeen` still tells its age).
   */
  async peers (): Promise<Peer[]> {
    if (this.#now() - this.#readAt > this.#cacheMs) {
      this.#reading ??= this.#read().finally(() => { this.#reading = undefined })
      await this.#reading
    }
    return this.#table.peers()
  }

  async #read (): Promise<void> {
    const { logger, ignored } = this.#o
    const started = this.#now()
    let records
    try {
      records = await readMembers({ ...this.#o, cap: this.#table.cap })
      this.#lastFailure = ''
    } catch (err) {
      // Asks for a cache period after the failure are answered from the table, not each kept waiting for NATS.
      this.#readAt = this.#now()
      const reason = err instanceof Error ? err.message : String(err)
      if (reason !== this.#lastFailure) logger.warn({ err }, 'the membership stream could not be read: peers as last read')
      this.#lastFailure = reason
      return
    }
    const heard: Record<'new' | 'restarted', string[]> = { new: [], restarted: [] }
    let full = 0
    for (const { fields, seenAt } of records) {
      if (fields.nodeId === this.#o.nodeId) continue
      const result = this.#table.offer(fields, seenAt)
      if (result === 'new' || result === 'restarted') heard[result].push(fields.nodeId)
      if (result === 'stale') ignored.note('heartbeat', 'stale')
      if (result === 'full') {
        ignored.note('heartbeat', 'table-full')
        full++
      }
    }
    const silent = this.#table.sweep().map(p => p.nodeId)
    this.#readAt = started
    const counts = { new: heard.new.length, restarted: heard.restarted.length, silent: silent.length }
    if (counts.new + counts.restarted + counts.silent > 0) {
      logger.info({ ...counts, newPeers: heard.new.slice(0, NAMED_IN_LOG), restartedPeers: heard.restarted.slice(0, NAMED_IN_LOG), silentPeers: silent.slice(0, NAMED_IN_LOG) }, 'peers changed since the last read of the membership stream')
    }
    if (full > 0) logger.warn({ cap: this.#table.cap, left: full }, 'the peer table is full: new peers are not added')
  }
}
