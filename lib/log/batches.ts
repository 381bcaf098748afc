/**
 * Reading a consumer's messages in batches: a pump moves messages into a
 * buffer as they arrive, and the reader takes whatever has arrived as one
 * batch (one LevelDB write for the replica) instead of one at a time. The
 * pump waits while a full batch is not taken, so memory stays bounded.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { deferred } from '../deferred.js'

/** A stream of messages that can be told to stop (a JetStream consumer's `consume()`). */
export interface StoppableMessages<M> extends AsyncIterable<M> {
  stop: () => void
}

// The client's iterator ends once stopped; a close never waits on it longer than this.
const PUMP_STOP_GRACE_MS = 1000

/**
 * Batches of `messages` mapped by `entry`, at most `size` each, until they
 * end or `signal` aborts. A failure of the messages (not caused by the abort)
 * is thrown after the batches before it, as `failed(err)` makes it.
 */
export async function * inBatches<M, E> (messages: StoppableMessages<M>, entry: (m: M) => E, size: number, signal: AbortSignal, failed: (err: unknown) => Error): AsyncGenerator<E[]> {
  const stop = (): void => { messages.stop() }
  // The signal may have fired while the messages were being set up.
  if (signal.aborted) stop()
  signal.addEventListener('abort', stop, { once: true })
  let ready: E[] = []
  let wake = deferred()
  let drained = deferred()
  let ended = false
  let failure: unknown
  const pump = (async () => {
    try {
      for await (const m of messages) {
        ready.push(entry(m))
        wake.resolve()
        if (ready.length >= size) await drained.promise
      }
    } catch (err) {
      failure = err
    } finally {
      ended = true
      wake.resolve()
    }
  })()
  try {
    for (;;) {
      if (ready.length === 0) {
        if (ended) break
        await wake.promise
        wake = deferred()
        continue
      }
      const batch = ready
      ready = []
      drained.resolve()
      drained = deferred()
      yield batch
    }
    if (failure !== undefined && !signal.aborted) throw failed(failure)
  } finally {
    signal.removeEventListener('abort', stop)
    messages.stop()
    drained.resolve()
    await Promise.race([pump, sleep(PUMP_STOP_GRACE_MS)])
  }
}
