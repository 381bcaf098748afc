/**
 * The watchers of one replica, admitted under two caps: open watchers, and
 * watchers replaying a backlog (each holds a LevelDB snapshot). Beyond either
 * a new watch is refused at once (`UNAVAILABLE`) rather than queued: a caller
 * told to come back later holds nothing meanwhile. Each watcher's queue is
 * bounded by a byte budget (lib/replica/change-queue.ts).
 */
import { CredregError } from '../errors.js'
import type { ChangeEvent } from '../types.js'
import type { Replica } from './replica.js'
import { replays, watchReplica } from './watch.js'

/** The caps and budget every watcher of a node is admitted under. */
export interface WatcherLimits {
  maxWatchers: number
  maxReplays: number
  /** Each watcher's queue budget in bytes. */
  queueBytes: number
}

/** What watching costs a node right now. */
export interface WatchLoad {
  /** Open watchers. */
  watchers: number
  /** Watchers still replaying their backlog. */
  replays: number
  /** Bytes of changes queued for watchers and not taken yet (as counted against each watcher's budget). */
  queuedBytes: number
  /** Listeners on the replica's `applied` notifications (one per live watcher, plus the daemon's own). */
  appliedListeners: number
}

export class Watchers {
  readonly #limits: WatcherLimits
  readonly #open = new Set<AbortController>()
  #replaying = 0
  readonly #queued = { bytes: 0 }

  constructor (limits: WatcherLimits) {
    this.#limits = limits
  }

  /**
   * Starts a watcher of `prefix` on `replica` (from `since`, when given) that
   * ends when `signal` aborts. Its iterator is not a generator: `return()`
   * releases the watcher even before the first `next()`.
   */
  open (replica: Replica, prefix: string, since: number | undefined, signal: AbortSignal | undefined): AsyncIterableIterator<ChangeEvent> {
    const replay = replays(replica, since)
    if (this.#open.size >= this.#limits.maxWatchers) {
      throw new CredregError('UNAVAILABLE', `${this.#open.size} watchers are open, the most this node serves: try again later`)
    }
    if (replay && this.#replaying >= this.#limits.maxReplays) {
      throw new CredregError('UNAVAILABLE', `${this.#replaying} watchers are replaying their backlog, the most this node runs at once: try again later`)
    }
    const controller = new AbortController()
    const onAbort = (): void => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#open.add(controller)
    if (replay) this.#replaying++
    const events = watchReplica(replica, prefix, {
      since,
      signal: controller.signal,
      queueBytes: this.#limits.queueBytes,
      tally: this.#queued,
      ...(replay ? { onReplayed: () => { this.#replaying-- } } : {})
    })
    const release = (): void => {
      controller.abort()
      this.#open.delete(controller)
      signal?.removeEventListener('abort', onAbort)
    }
    controller.signal.addEventListener('abort', release, { once: true })
    if (signal?.aborted === true) controller.abort()
    return {
      next: async () => {
        try {
          const result = await events.next()
          if (result.done === true) release()
          return result
        } catch (err) {
          release()
          throw err
        }
      },
      return: async () => {
        release()
        return await events.return(undefined)
      },
      [Symbol.asyncIterator] () { return this }
    }
  }

  /** What the watchers cost now, with the listener count of `replica` (when open). */
  load (replica: Replica | undefined): WatchLoad {
    return { watchers: this.#open.size, replays: this.#replaying, queuedBytes: this.#queued.bytes, appliedListeners: replica?.listenerCount('applied') ?? 0 }
  }

  /** Ends every open watcher (a closing node). */
  closeAll (): void {
    for (const watcher of this.#open) watcher.abort()
  }
}
