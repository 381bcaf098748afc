/**
 * The data every system gets: keys `svc/<n>/db` and JSON values of exactly
 * 256 bytes, so credreg, NATS KV and etcd store and move the same payloads.
 */

/** Serialized size of every value. */
export const VALUE_BYTES = 256

/** The n-th key. */
export function key (n: number): string {
  return `svc/${n}/db`
}

/** A JSON object of exactly {@link VALUE_BYTES} serialized bytes; `count` lets contention increment it. */
export function value (n: number, count = 0): { user: string, count: number, password: string } {
  const base = { user: `svc-${n}`, count, password: '' }
  const pad = VALUE_BYTES - JSON.stringify(base).length
  if (pad < 0) throw new RangeError(`value ${n} does not fit in ${VALUE_BYTES} bytes`)
  return { ...base, password: 'p'.repeat(pad) }
}

/** The same value as bytes, for the peers. */
export function valueBytes (n: number, count = 0): Buffer {
  return Buffer.from(JSON.stringify(value(n, count)))
}

/** A deterministic spread of `i` over `size` keys, so reads do not walk keys in order. */
export function spread (i: number, size: number): number {
  return (i * 7919) % size
}
