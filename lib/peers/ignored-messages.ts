/**
 * Peer messages a node ignores when it reads the membership stream
 * (malformed, forged, stale…): counted per kind and reason, and summed up in
 * one debug line at most every ten seconds, so a flood of forgeries costs a
 * counter, never a log line each. A record that stays in the stream is
 * counted at each read that meets it.
 */
import type { Logger } from '../types.js'

/** What kind of peer message was ignored: a membership record (a heartbeat). */
export type PeerMessageKind = 'heartbeat'

/**
 * Why it was ignored: `oversized` (more bytes than any genuine one),
 * `malformed` (not JSON or not the schema, wrong namespace, not on its node's
 * own subject), `version` (another schema version), `forged` (its tag does not
 * verify under the namespace key), `stale` (older than what the table holds
 * of that node: a replay of an earlier record), `table-full` (a new peer
 * beyond the cap of the peer table).
 */
export type IgnoreReason = 'oversized' | 'malformed' | 'version' | 'forged' | 'stale' | 'table-full'

/** Options of {@link IgnoredMessages}. */
export interface IgnoredMessagesOptions {
  logger: Logger
  /** Called for every ignored message (a metric). */
  count?: (kind: PeerMessageKind, reason: IgnoreReason) => void
  /** Least time between two summary lines; default 10 s. */
  summaryMs?: number
  now?: () => number
}

export class IgnoredMessages {
  readonly #o: IgnoredMessagesOptions
  readonly #pending = new Map<string, number>()
  #lastSummary = -Infinity

  constructor (options: IgnoredMessagesOptions) {
    this.#o = options
  }

  /** Notes one ignored message. */
  note (kind: PeerMessageKind, reason: IgnoreReason): void {
    this.#o.count?.(kind, reason)
    const what = `${kind} ${reason}`
    this.#pending.set(what, (this.#pending.get(what) ?? 0) + 1)
    const now = (this.#o.now ?? Date.now)()
    if (now - this.#lastSummary < (this.#o.summaryMs ?? 10_000)) return
    this.#lastSummary = now
    this.#o.logger.debug({ ignored: Object.fromEntries(this.#pending) }, 'ignored peer messages since the last such line')
    this.#pending.clear()
  }
}
