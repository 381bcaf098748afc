/**
 * Timing a change from the writer to a watcher in the same process clock:
 * the sample is (event received at the watcher − put issued at the writer).
 */
import { summarize, type Measured } from './stats.js'

/** A change that never reaches the watcher fails the scenario after this long instead of hanging it. */
const LOST_AFTER_MS = 30_000

/** Keys the watchers are waiting for, resolved with the time their next event arrives. */
export class Arrivals {
  readonly #waiting = new Map<string, (at: number) => void>()

  /** The arrival time of the first event for `key` after this call. */
  async expect (key: string): Promise<number> {
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise((resolve, reject) => {
        this.#waiting.set(key, resolve)
        timer = setTimeout(() => reject(new Error(`no event for ${key} reached the watcher within ${LOST_AFTER_MS} ms`)), LOST_AFTER_MS)
      })
    } finally {
      clearTimeout(timer)
      this.#waiting.delete(key)
    }
  }

  /** Called by a watcher for every event. */
  arrived (key: string): void {
    const at = performance.now()
    this.#waiting.get(key)?.(at)
  }
}

/**
 * Issues `count` writes one after another (after `warmup` untimed ones), each
 * to key `keyOf(i)`, and times each until the watcher saw it. A write's own
 * acknowledgement is awaited too, so writes never overlap.
 */
export async function measurePropagation (
  count: number, arrivals: Arrivals, keyOf: (i: number) => string, write: (key: string, i: number) => Promise<unknown>, warmup = Math.min(50, Math.ceil(count / 10))
): Promise<Measured> {
  const once = async (i: number): Promise<number> => {
    const key = keyOf(i)
    const arrived = arrivals.expect(key)
    const issued = performance.now()
    const [at] = await Promise.all([arrived, write(key, i)])
    return at - issued
  }
  for (let i = 0; i < warmup; i++) await once(i)
  const samples: number[] = []
  const started = performance.now()
  for (let i = 0; i < count; i++) samples.push(await once(i))
  return summarize(samples, performance.now() - started)
}
