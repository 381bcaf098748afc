/**
 * The latest samples of one stage, for its percentiles: a fixed ring of
 * numbers (no allocation per sample), sorted only when asked.
 */
export class Reservoir {
  readonly #ring: Float64Array
  #count = 0

  constructor (size: number) {
    this.#ring = new Float64Array(size)
  }

  /** Samples taken since start (the ring holds the latest of them). */
  get count (): number { return this.#count }

  add (value: number): void {
    this.#ring[this.#count % this.#ring.length] = value
    this.#count++
  }

  /** The `q` quantile (0–1) of the samples held, nearest rank; `undefined` before the first. */
  quantile (q: number): number | undefined {
    const held = this.#ring.subarray(0, Math.min(this.#count, this.#ring.length)).slice().sort()
    if (held.length === 0) return undefined
    return held[Math.min(held.length - 1, Math.max(0, Math.ceil(q * held.length) - 1))]
  }
}
