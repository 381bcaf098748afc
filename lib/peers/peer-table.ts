/**
 * The table of peers a node has read from the membership stream: ordered
 * updates (a replayed or older record never rolls a peer back), expiry and a
 * cap. A pure data structure with an injected clock; the member directory
 * feeds it each time it reads the stream.
 *
 * A peer's records are ordered by (startedAt, beat): a later start is a
 * restart; within one run the beat counter only grows. Reading the same
 * record again changes nothing. When a peer was last heard of is the time its
 * record says it was written (signed, so a record written again later by
 * someone else cannot keep a stopped node alive), no later than the server
 * stored it.
 *
 * Lifecycle of a row, in heartbeat intervals since the peer last wrote:
 *
 * | since last written        | state   |
 * | ------------------------- | ------- |
 * | ≤ 3                       | alive   |
 * | > 3 and ≤ 3 + 60          | gone    |
 * | > 3 + 60                  | dropped |
 */
import type { HeartbeatFields } from './heartbeat-record.js'

/** Intervals without a record after which a peer is shown as gone. */
export const GONE_AFTER_INTERVALS = 3
/** Intervals a gone peer stays in the table (5 minutes at the default 5 s interval). */
export const KEEP_GONE_INTERVALS = 60
/** The most peers (alive and gone) a table holds; new peers beyond it are not added. */
export const PEER_CAP = 100_000

/** Whether a peer was heard from lately. */
export type PeerState = 'alive' | 'gone'

/** A peer as last heard from. */
export interface Peer extends HeartbeatFields {
  /** When it wrote its last record (ms). */
  lastSeen: number
  state: PeerState
}

/**
 * What became of an offered record: `new` (a peer not in the table),
 * `restarted` (a known peer that started again), `updated`, `unchanged` (the
 * record the table holds, read again), `stale` (older than what the table
 * holds: ignored), `full` (a new peer beyond the cap: ignored).
 */
export type OfferResult = 'new' | 'restarted' | 'updated' | 'unchanged' | 'stale' | 'full'

/** Options of {@link PeerTable}. */
export interface PeerTableOptions {
  intervalMs: number
  /** Default {@link PEER_CAP}. */
  cap?: number
  /** Default `Date.now`. */
  now?: () => number
}

interface Entry { fields: HeartbeatFields, startedMs: number, lastSeen: number, gone: boolean }

export class PeerTable {
  readonly #intervalMs: number
  readonly #cap: number
  readonly #now: () => number
  readonly #peers = new Map<string, Entry>()

  constructor (options: PeerTableOptions) {
    this.#intervalMs = options.intervalMs
    this.#cap = options.cap ?? PEER_CAP
    this.#now = options.now ?? Date.now
  }

  /** The most peers the table holds. */
  get cap (): number {
    return this.#cap
  }

  /** Records a heartbeat (already authenticated), written at `seenAt` (ms), if it is newer than what the table holds. */
  offer (hb: HeartbeatFields, seenAt: number): OfferResult {
    const known = this.#peers.get(hb.nodeId)
    const startedMs = Date.parse(hb.startedAt)
    const entry: Entry = { fields: hb, startedMs, lastSeen: seenAt, gone: false }
    if (known === undefined || this.#expired(known)) {
      if (known === undefined && this.#peers.size >= this.#cap) return 'full'
      this.#peers.set(hb.nodeId, entry)
      return 'new'
    }
    if (startedMs > known.startedMs) {
      this.#peers.set(hb.nodeId, entry)
      return 'restarted'
    }
    if (hb.startedAt === known.fields.startedAt && hb.beat === known.fields.beat) return 'unchanged'
    if (startedMs < known.startedMs || hb.startedAt !== known.fields.startedAt || hb.beat < known.fields.beat) return 'stale'
    this.#peers.set(hb.nodeId, entry)
    return 'updated'
  }

  /** Every peer in the table, most recently heard first. */
  peers (): Peer[] {
    const now = this.#now()
    const rows: Peer[] = []
    for (const e of this.#peers.values()) {
      if (!this.#expired(e, now)) rows.push({ ...e.fields, lastSeen: e.lastSeen, state: this.#isGone(e, now) ? 'gone' : 'alive' })
    }
    return rows.sort((a, b) => b.lastSeen - a.lastSeen)
  }

  /** How many peers are alive. */
  alive (): number {
    const now = this.#now()
    let n = 0
    for (const e of this.#peers.values()) if (!this.#isGone(e, now)) n++
    return n
  }

  /** Drops the peers gone for too long; returns the peers that went gone since the last sweep. */
  sweep (): Peer[] {
    const now = this.#now()
    const newlyGone: Peer[] = []
    for (const [id, e] of this.#peers) {
      if (this.#expired(e, now)) {
        this.#peers.delete(id)
      } else if (!e.gone && this.#isGone(e, now)) {
        e.gone = true
        newlyGone.push({ ...e.fields, lastSeen: e.lastSeen, state: 'gone' })
      }
    }
    return newlyGone
  }

  #isGone (e: Entry, now: number): boolean {
    return now - e.lastSeen > GONE_AFTER_INTERVALS * this.#intervalMs
  }

  #expired (e: Entry, now = this.#now()): boolean {
    return now - e.lastSeen > (GONE_AFTER_INTERVALS + KEEP_GONE_INTERVALS) * this.#intervalMs
  }
}
