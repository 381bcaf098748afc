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

/** The scenario a signed variant repeats in open mode: `put-1-signed` → `put-1`. */
export function openScenarioOf (scenario: string): string {
  return scenario.replace(/-signed$/, '')
}

/**
 * A row measured under a policy, with the same system's figures of the run in
 * open mode beside it (already in `rows`) and the difference: p50 in ms,
 * ops/s as a ratio.
 */
export function besideOpenMode (signed: Row, rows: Row[]): Row {
  const open = rows.find(r => r.scenario === openScenarioOf(signed.scenario) && r.system === signed.system && r.status === 'ok')
  if (open === undefined || signed.status !== 'ok') return signed
  const extra: Extra = { ...signed.extra }
  if (signed.p50Ms !== undefined && open.p50Ms !== undefined) {
    extra['open mode p50 ms'] = open.p50Ms
    extra['p50 − open mode, ms'] = round(signed.p50Ms - open.p50Ms)
  }
  if (signed.opsPerSec !== undefined && open.opsPerSec !== undefined && open.opsPerSec > 0) {
    extra['open mode ops/s'] = open.opsPerSec
    extra['ops/s ÷ open mode'] = round(signed.opsPerSec / open.opsPerSec)
  }
  return { ...signed, extra }
}
