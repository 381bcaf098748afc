/**
 * Aborts rotations whose deadline passed. Every node keeps a timer per open
 * rotation with a deadline and, when it fires, writes the abort: the
 * decision record comes from whichever node is first, the verdict on it (and
 * on any release racing it) still from log order alone. A node that finds
 * the rotation closed already writes nothing.
 */
import { isCredregError } from '../errors.js'
import type { Replica } from '../replica/replica.js'
import type { RotationEvent } from '../shapes/rotation.js'
import type { Logger } from '../types.js'

// setTimeout takes at most 2^31 - 1 ms (about 24.8 days): a later deadline is waited for in steps.
const MAX_TIMER_MS = 2 ** 31 - 1
const RETRY_MS = 5000
// Nodes do not all write the same abort at the same instant: the first one's lands, the others find it closed.
const SPREAD_MS = 1000

export class RotationDeadlines {
  readonly #replica: Replica
  readonly #abort: (id: string) => Promise<void>
  readonly #logger: Logger | undefined
  readonly #timers = new Map<string, NodeJS.Timeout>()
  #stopped = false

  constructor (replica: Replica, abort: (id: string) => Promise<void>, logger?: Logger) {
    this.#replica = replica
    this.#abort = abort
    this.#logger = logger
  }

  /** Schedules every open rotation's deadline, then follows the rotations the replica applies. */
  async start (): Promise<void> {
    this.#replica.on('rotations', this.#onEvents)
    for (const rotation of await this.#replica.openRotations()) {
      if (rotation.deadline !== undefined) this.#schedule(rotation.id, rotation.deadline)
    }
  }

  stop (): void {
    this.#stopped = true
    this.#replica.off('rotations', this.#onEvents)
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  readonly #onEvents = (events: RotationEvent[]): void => {
    for (const event of events) {
      if (event.event === 'released' || event.event === 'aborted') this.#clear(event.rotation)
      if (event.event !== 'staged') continue
      this.#replica.rotation(event.rotation).then(rotation => {
        if (rotation?.status === 'staged' && rotation.deadline !== undefined) this.#schedule(rotation.id, rotation.deadline)
      }, (err: unknown) => this.#logger?.warn({ err, rotation: event.rotation }, 'could not read a staged rotation'))
    }
  }

  #schedule (id: string, deadline: string, extraMs = Math.random() * SPREAD_MS): void {
    if (this.#stopped) return
    this.#clear(id)
    const wait = Math.max(0, Date.parse(deadline) - Date.now()) + extraMs
    const timer = setTimeout(() => {
      this.#timers.delete(id)
      if (wait > MAX_TIMER_MS) this.#schedule(id, deadline, 0)
      else void this.#fire(id, deadline)
    }, Math.min(wait, MAX_TIMER_MS))
    timer.unref()
    this.#timers.set(id, timer)
  }

  async #fire (id: string, deadline: string): Promise<void> {
    const rotation = await this.#replica.rotation(id)
    if (rotation?.status !== 'staged' || this.#stopped) return
    try {
      await this.#abort(id)
      this.#logger?.info({ rotation: id, deadline }, 'aborted a rotation whose deadline passed')
    } catch (err) {
      // Closed meanwhile by another node (or released): nothing to do. Not this host's to abort
      // under the policy: a host granted rotations does. Unreachable log: try again.
      if (isCredregError(err, 'ROTATION_REFUSED') || isCredregError(err, 'NOT_FOUND') || isCredregError(err, 'FORBIDDEN')) return
      this.#logger?.warn({ err, rotation: id }, 'could not abort a rotation whose deadline passed; trying again')
      this.#schedule(id, new Date(Date.now() + RETRY_MS).toISOString(), 0)
    }
  }

  #clear (id: string): void {
    const timer = this.#timers.get(id)
    if (timer !== undefined) clearTimeout(timer)
    this.#timers.delete(id)
  }
}
