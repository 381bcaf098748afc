/**
 * Times the replica's apply batches for a {@link TimingHook}: the follower
 * marks the start and end of each batch; the records applied in between
 * (the replica's `applied` event, emitted as the batch commits) each say
 * when they were written. Made only when a hook is set: without one the
 * replica has no listener more.
 */
import type { AppliedChange, Replica } from '../replica/replica.js'
import type { TimingHook } from './stages.js'

export class ApplyClock {
  readonly #hook: TimingHook
  readonly #replica: Replica
  #startWall = 0
  #startPerf = 0
  #applied = false
  readonly #onApplied = (changes: AppliedChange[]): void => {
    this.#applied = true
    // The changes of a changeset share one record (one sequence): it counts once.
    let seq = -1
    for (const { stored } of changes) {
      if (stored.seq === seq) continue
      seq = stored.seq
      const writtenAt = Date.parse(stored.meta.updatedAt)
      if (Number.isFinite(writtenAt)) this.#hook.propagation('delivered', Math.max(0, this.#startWall - writtenAt) / 1000)
    }
  }

  constructor (hook: TimingHook, replica: Replica) {
    this.#hook = hook
    this.#replica = replica
    replica.on('applied', this.#onApplied)
  }

  /** A batch is about to be applied. */
  start (): void {
    this.#startWall = Date.now()
    this.#startPerf = performance.now()
    this.#applied = false
  }

  /** The batch is written (or refused whole: then nothing counts). */
  end (): void {
    if (this.#applied) this.#hook.propagation('applied', (performance.now() - this.#startPerf) / 1000)
    this.#applied = false
  }

  /** Stops listening to the replica. */
  stop (): void {
    this.#replica.off('applied', this.#onApplied)
  }
}
