/** What a process costs, from /proc (Linux): CPU seconds so far and resident memory. */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS = 100

/** User plus system CPU seconds `pid` has used since it started. */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command (which may hold spaces), from the 3rd: utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/** Resident set of `pid` in MB. */
export function rssMB (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024
}

/** CPU used by `pid` over a stretch of time, as a percentage of one core. */
export function cpuMeter (pid: number): () => number {
  const cpu0 = cpuSeconds(pid)
  const t0 = performance.now()
  return () => 100 * (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)
}
