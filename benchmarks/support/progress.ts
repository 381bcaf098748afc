/** Progress lines on stderr, so a long run shows it is alive; stdout stays the report. */

const EVERY_MS = 2000
const started = performance.now()

/** Writes `[bench 12.3s] message` to stderr. */
export function progress (message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

/** A callback for `done` of `total` items that reports at most every two seconds, and at the end. */
export function counter (label: string, total: number): (done: number) => void {
  const t0 = performance.now()
  let last = t0
  return (done) => {
    const now = performance.now()
    if (done < total && now - last < EVERY_MS) return
    last = now
    const rate = done / Math.max(0.001, (now - t0) / 1000)
    progress(`${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.round(rate).toLocaleString('en-US')}/s)`)
  }
}
