/**
 * Watchers of rotations: each one a bounded queue of the rotation events the
 * replica applies from the moment it opens (live only: the rotations' state,
 * `node.rotation(id)`, is the durable view). Rotation events are few and
 * small, so the queue is bounded by a count; a consumer that lets
 * {@link ROTATION_QUEUE_EVENTS} pile up is ended with `WATCH_OVERFLOW` rather
 * than held in memory without bound. At most `max` watchers are open at once;
 * beyond that a new one is refused at once (`UNAVAILABLE`).
 */
import { CredregError } from '../errors.js'
import type { Replica } from '../replica/replica.js'
import type { RotationEvent } from '../shapes/rotation.js'

/** Events a rotation watcher may leave untaken before it is ended with `WATCH_OVERFLOW`. */
export const ROTATION_QUEUE_EVENTS = 1024

export class RotationWatchers {
  readonly #max: number
  readonly #open = new Set<AbortController>()

  constructor (max: number) {
    this.#max = max
  }

  /** Watchers open now. */
  get size (): number {
    return this.#open.size
  }

  /**
   * Starts a watcher of `replica`'s rotation events (listening at once, not at
   * the first `next()`) that ends when `signal` aborts, `return()` is called or
   * {@link RotationWatchers.closeAll} runs.
   */
  open (replica: Replica, signal: AbortSignal | undefined): AsyncIterableIterator<RotationEvent> {
    if (this.#open.size >= this.#max) {
      throw new CredregError('UNAVAILABLE', `${this.#open.size} rotation watchers are open, the most this node serves: try again later`)
    }
    const controller = new AbortController()
    this.#open.add(controller)
    const queue: RotationEvent[] = []
    let failure: CredregError | undefined
    let wake: (() => void) | undefined
    const wakeUp = (): void => {
      const w = wake
      wake = undefined
      w?.()
    }
    const push = (events: RotationEvent[]): void => {
      queue.push(...events)
      if (queue.length > ROTATION_QUEUE_EVENTS) {
        failure = new CredregError('WATCH_OVERFLOW', `the rotation watcher left more than ${ROTATION_QUEUE_EVENTS} events untaken: read the rotations' state and watch again`)
        release()
      }
      wakeUp()
    }
    const onAbort = (): void => controller.abort()
    const release = (): void => {
      replica.off('rotations', push)
      signal?.removeEventListener('abort', onAbort)
      this.#open.delete(controller)
      queue.length = 0
      controller.abort()
      wakeUp()
    }
    replica.on('rotations', push)
    controller.signal.addEventListener('abort', release, { once: true })
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted === true) controller.abort()

    const done = { done: true, value: undefined } as const
    return {
      next: async () => {
        for (;;) {
          if (failure !== undefined) throw failure
          const event = queue.shift()
          if (event !== undefined) return { done: false, value: event }
          if (controller.signal.aborted) return done
          await new Promise<void>(resolve => { wake = resolve })
        }
      },
      return: async () => {
        controller.abort()
        return done
      },
      [Symbol.asyncIterator] () { return this }
    }
  }

  /** Ends every open watcher (a closing node). */
  closeAll (): void {
    for (const watcher of this.#open) watcher.abort()
  }
}
