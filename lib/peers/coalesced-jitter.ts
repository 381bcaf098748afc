/**
 * An action run at a random point of a window, coalesced: however many
 * requests arrive, it runs at most once per window. A node answers
 * newcomers with it, so that a new node (or a hundred starting together) is
 * answered by each host once, spread over the window, instead of by every
 * host at the same instant once per newcomer.
 */

/** Time and chance, injected for tests. */
export interface JitterClock {
  now: () => number
  /** A number in [0, 1). */
  random: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

const systemClock: JitterClock = {
  now: () => Date.now(),
  random: () => Math.random(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout)
}

export class CoalescedJitter {
  readonly #windowMs: number
  readonly #action: () => void
  readonly #clock: JitterClock
  #timer: unknown
  #lastRun = -Infinity
  #closed = false

  /** Runs `action` for requests, at most once per `windowMs`. */
  constructor (windowMs: number, action: () => void, clock: JitterClock = systemClock) {
    this.#windowMs = windowMs
    this.#action = action
    this.#clock = clock
  }

  /** Whether a run is scheduled. */
  get pending (): boolean {
    return this.#timer !== undefined
  }

  /**
   * Schedules a run at a random delay within the window, no sooner than one
   * window after the previous run; a request while one is scheduled joins it.
   */
  request (): void {
    if (this.#closed || this.#timer !== undefined) return
    const now = this.#clock.now()
    const at = Math.max(now + this.#clock.random() * this.#windowMs, this.#lastRun + this.#windowMs)
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#lastRun = this.#clock.now()
      this.#action()
    }, Math.max(0, Math.round(at - now)))
  }

  /** Cancels a scheduled run; later requests are ignored. */
  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
