/** Small formatters for human output. */

/** Seconds as `45s`, `3m12s`, `2h05m`, `3d04h`. */
export function duration (seconds: number): string {
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`
}

/** The first characters of a public key: enough to tell keys apart in a table. */
export function shortKey (key: string): string {
  return `${key.slice(0, 8)}…`
}

function pad (n: number): string {
  return String(n).padStart(2, '0')
}
