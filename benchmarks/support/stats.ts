/**
 * Latency sampling: sequential and concurrent loops timed with
 * `performance.now()`, summarized as nearest-rank percentiles.
 */

/** What one timed loop measured. */
export interface Measured {
  /** Operations timed (warm-up excluded). */
  n: number
  p50Ms: number
  p99Ms: number
  meanMs: number
  maxMs: number
  /** Operations completed per second of wall time, over all workers. */
  opsPerSec: number
}

/** Summary of latency samples in milliseconds over `elapsedMs` of wall time. */
export function summarize (samples: number[], elapsedMs: number): Measured {
  const sorted = Float64Array.from(samples).sort()
  const n = sorted.length
  if (n === 0) throw new RangeError('no samples')
  const rank = (q: number): number => sorted[Math.max(0, Math.ceil(q * n) - 1)] as number
  const sum = sorted.reduce((a, b) => a + b, 0)
  return { n, p50Ms: rank(0.5), p99Ms: rank(0.99), meanMs: sum / n, maxMs: sorted[n - 1] as number, opsPerSec: n / (elapsedMs / 1000) }
}

/** Runs `op(i)` for i = 0‥count-1 one at a time, after `warmup` untimed calls. */
export async function measure (count: number, op: (i: number) => Promise<unknown>, warmup = Math.min(100, Math.ceil(count / 10))): Promise<Measured> {
  return await measureConcurrent(1, count, async (_w, i) => await op(i), warmup)
}

/**
 * Runs `workers` loops at once, each calling `op(worker, i)` for
 * i = 0‥perWorker-1 in sequence; each worker first makes `warmup` untimed calls
 * (i = 0‥warmup-1), so connections, caches and the JIT are warm when timing starts.
 */
export async function measureConcurrent (
  workers: number, perWorker: number, op: (worker: number, i: number) => Promise<unknown>, warmup = Math.min(20, Math.ceil(perWorker / 10))
): Promise<Measured> {
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; i < warmup; i++) await op(w, i)
  }))
  const samples: number[] = []
  const started = performance.now()
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; i < perWorker; i++) {
      const t0 = performance.now()
      await op(w, i)
      samples.push(performance.now() - t0)
    }
  }))
  return summarize(samples, performance.now() - started)
}

/** Runs `op(i)` for i = 0‥count-1 with at most `window` calls in flight (bulk loading). */
export async function pipelined (count: number, window: number, op: (i: number) => Promise<unknown>, onDone?: (done: number) => void): Promise<void> {
  let next = 0
  let done = 0
  await Promise.all(Array.from({ length: Math.min(window, count) }, async () => {
    while (next < count) {
      await op(next++)
      onDone?.(++done)
    }
  }))
}
