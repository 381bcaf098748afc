/** Building result rows: a measured one, or one that says why nothing was measured. */
import type { Row, System } from './results.js'
import type { Measured } from './stats.js'

type Extra = NonNullable<Row['extra']>

/** A row with figures. */
export function measuredRow (scenario: string, system: System, note: string, m: Measured, extra?: Extra): Row {
  return {
    scenario,
    system,
    status: 'ok',
    note,
    n: m.n,
    p50Ms: round(m.p50Ms),
    p99Ms: round(m.p99Ms),
    opsPerSec: round(m.opsPerSec),
    ...(extra !== undefined ? { extra } : {})
  }
}

/** A row of figures that are not latencies (catch-up, scale): throughput plus extras. */
export function rateRow (scenario: string, system: System, note: string, n: number, opsPerSec: number, extra: Extra, latency?: Measured): Row {
  return {
    scenario,
    system,
    status: 'ok',
    note,
    n,
    ...(latency !== undefined ? { p50Ms: round(latency.p50Ms), p99Ms: round(latency.p99Ms) } : {}),
    opsPerSec: round(opsPerSec),
    extra
  }
}

/** A row without figures, and why. */
export function missingRow (scenario: string, system: System, status: Exclude<Row['status'], 'ok'>, note: string): Row {
  return { scenario, system, status, note }
}

/** Three significant digits are all these figures can bear. */
export function round (x: number): number {
  return Number(x.toPrecision(3))
}
