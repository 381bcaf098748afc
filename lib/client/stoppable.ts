/**
 * An async iterator over a generator that waits on the network, whose
 * `return()` also ends a `next()` still waiting: a bare async generator runs
 * `return()` only after its pending `next()` settles.
 */

/** Runs `start(signal)`, where `signal` aborts with `outer` or on `return()`. */
export function stoppable<T> (outer: AbortSignal, start: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>): AsyncIterableIterator<T> {
  const stop = new AbortController()
  const items = start(AbortSignal.any([outer, stop.signal]))
  return {
    next: async () => await items.next(),
    return: async () => {
      stop.abort()
      return await items.return()
    },
    [Symbol.asyncIterator] () { return this }
  }
}
