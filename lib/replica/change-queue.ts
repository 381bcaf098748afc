/**
 * A watcher's queue of live changes: filled by the replica's `applied`
 * notifications, drained by the watcher at its own pace, and bounded. A
 * watcher whose queue reaches its byte budget is overflowed: the queue drops
 * what it holds, stops listening, and its next read fails with
 * `WATCH_OVERFLOW`, so a consumer that does not keep up costs a bounded amount
 * of memory and learns that it must resume from the last sequence it took.
 */
import { CredregError } from '../errors.js'
import type { AppliedChange, Replica } from './replica.js'

/**
 * Default byte budget of one watcher's queue (8 MiB). Counted in bytes rather
 * than changes because a change costs from a few hundred bytes to over a
 * mebibyte (the largest sealed value): 8 MiB holds some ten thousand changes
 * of typical small values, and still about a hundred of the largest ones.
 */
export const DEFAULT_WATCH_QUEUE_BYTES = 8 * 1024 * 1024

/** What a queued change is taken to cost beyond its key and sealed value: the objects, meta and array slot. */
const CHANGE_OVERHEAD_BYTES = 512

/** The bytes one queued change is counted for. */
export function changeCost (change: AppliedChange): number {
  return CHANGE_OVERHEAD_BYTES + change.key.length + (change.stored.value?.ct.length ?? 0)
}

/** A running total of the bytes queued, shared by the queues of one node (for its metrics). */
export interface QueueTally {
  bytes: number
}

export class ChangeQueue {
  readonly #replica: Replica
  readonly #tally: QueueTally
  readonly #accepts: (change: AppliedChange) => boolean
  readonly #limitBytes: number
  readonly #signal: AbortSignal
  #queued: Array<AppliedChange | undefined> = []
  #head = 0
  #bytes = 0
  #wake: (() => void) | undefined
  #failure: CredregError | undefined
  #closed = false

  /**
   * Starts listening at once. `accepts` picks the changes worth queueing (the
   * watcher's prefix, past its backlog): the others cost nothing.
   */
  constructor (replica: Replica, accepts: (change: AppliedChange) => boolean, limitBytes: number, signal: AbortSignal, tally: QueueTally = { bytes: 0 }) {
    this.#replica = replica
    this.#tally = tally
    this.#accepts = accepts
    this.#limitBytes = limitBytes
    this.#signal = signal
    replica.on('applied', this.#push)
    signal.addEventListener('abort', this.close)
    if (signal.aborted) this.close()
  }

  /** The overflow, once the queue went over its budget. */
  get failure (): CredregError | undefined {
    return this.#failure
  }

  /** The next change; `undefined` once closed or aborted; throws `WATCH_OVERFLOW` after an overflow. */
  async next (): Promise<AppliedChange | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure
      if (this.#head < this.#queued.length) return this.#take()
      if (this.#closed) return undefined
      await new Promise<void>(resolve => { this.#wake = resolve })
    }
  }

  /** Stops listening and drops what is queued (idempotent). */
  readonly close = (): void => {
    if (this.#closed) return
    this.#closed = true
    this.#replica.off('applied', this.#push)
    this.#signal.removeEventListener('abort', this.close)
    this.#queued = []
    this.#head = 0
    this.#count(-this.#bytes)
    this.#wakeUp()
  }

  readonly #push = (changes: AppliedChange[]): void => {
    for (const change of changes) {
      if (!this.#accepts(change)) continue
      this.#queued.push(change)
      this.#count(changeCost(change))
    }
    if (this.#bytes > this.#limitBytes) {
      this.#failure = new CredregError('WATCH_OVERFLOW', `the watcher fell more than ${this.#limitBytes} bytes of changes behind: resume from the last sequence it processed`)
      this.close()
    }
    this.#wakeUp()
  }

  #take (): AppliedChange {
    const change = this.#queued[this.#head] as AppliedChange
    this.#queued[this.#head++] = undefined
    this.#count(-changeCost(change))
    // Compact once the consumed head is the larger part, so a long-lived queue does not keep a growing array.
    if (this.#head > 1024 && this.#head * 2 > this.#queued.length) {
      this.#queued = this.#queued.slice(this.#head)
      this.#head = 0
    }
    return change
  }

  #count (bytes: number): void {
    this.#bytes += bytes
    this.#tally.bytes += bytes
  }

  #wakeUp (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
