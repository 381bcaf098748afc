/**
 * Times the replica's apply batches for a {@link TimingHook}: the follower
 * marks the start and end of each batch. A record's `delivered` runs from
 * the log's own time of it (a shared log's) to the start of its batch; a log
 * that keeps no time (the embedded one) leaves the writer's `updatedAt`,
 * read from the records applied (the replica's `applied` event, emitted as
 * the batch commits), at millisecond resolution. Made only when a hook is
 * set: without one the replica has no listener more.
 */
import type { LogEntry } from '../log/abstract-log.js'
import type { AppliedChange, Replica } from '../replica/replica.js'
import type { TimingHook } from './stages.js'

export class ApplyClock {
  readonly #hook: TimingHook
  readonly #replica: Replica
  // Wall-clock milliseconds, finer than Date.now(): a record crosses the local log in well under one.
  #startWall = 0
  #startPerf = 0
  #stamped = false
  #applied = false
  readonly #onApplied = (changes: AppliedChange[]): void => {
    this.#applied = true
    if (this.#stamped) return
    // The changes of a changeset share one record (one sequence): it counts once.
    let seq = -1
    for (const { stored } of changes) {
      if (stored.seq === seq) continue
      seq = stored.seq
      const writtenAt = Date.parse(stored.meta.updatedAt)
      if (Number.isFinite(writtenAt)) this.#delivered(writtenAt)
    }
  }

  constructor (hook: TimingHook, replica: Replica) {
    this.#hook = hook
    this.#replica = replica
    replica.on('applied', this.#onApplied)
  }

  /** `batch` is about to be applied. */
  start (batch: LogEntry[]): void {
    this.#startPerf = performance.now()
    // The monotonic clock drifts from the wall clock over a long uptime: past a millisecond apart, the wall clock stands.
    const wall = Date.now()
    const fine = performance.timeOrigin + this.#startPerf
    this.#startWall = Math.abs(fine - wall) <= 1 ? fine : wall
    this.#applied = false
    this.#stamped = false
    for (const entry of batch) {
      if (entry.loggedAt === undefined || entry.control === true) continue
      this.#stamped = true
      this.#delivered(entry.loggedAt)
    }
  }

  /** The batch is written (or refused whole: then it does not count). */
  end (): void {
    if (this.#applied) this.#hook.propagation('applied', (performance.now() - this.#startPerf) / 1000)
    this.#applied = false
  }

  /** Stops listening to the replica. */
  stop (): void {
    this.#replica.off('applied', this.#onApplied)
  }

  // Clocks of two hosts (the log's, this one's) may disagree: never below 0.
  #delivered (since: number): void {
    this.#hook.propagation('delivered', Math.max(0, this.#startWall - since) / 1000)
  }
}
