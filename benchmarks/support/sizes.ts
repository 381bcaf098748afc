/** How much each scenario does: the sizes, and tiny ones for `--quick`. */

export interface Sizes {
  /** get: keys loaded, gets timed per system. */
  getKeys: number
  getOps: number
  /** conditional put: keys written, puts timed with one writer, puts per writer with 16. */
  putKeys: number
  putOps: number
  putWriters: number
  putOpsPerWriter: number
  /** propagation: put → event round trips timed. */
  propagationOps: number
  /** catch-up: changes landing while the reader is away, over this many keys. */
  catchUpChanges: number
  catchUpKeys: number
  /** scale: entities in the register, gets timed at that size. */
  scaleEntities: number
  scaleGets: number
  /** contention: writers on one key, successful increments each. */
  contentionWriters: number
  contentionIncrements: number
}

export const FULL: Sizes = {
  getKeys: 1000,
  getOps: 5000,
  putKeys: 1000,
  putOps: 2000,
  putWriters: 16,
  putOpsPerWriter: 200,
  propagationOps: 1000,
  catchUpChanges: 100_000,
  catchUpKeys: 10_000,
  scaleEntities: 1_000_000,
  scaleGets: 5000,
  contentionWriters: 16,
  contentionIncrements: 50
}

export const QUICK: Sizes = {
  getKeys: 50,
  getOps: 100,
  putKeys: 50,
  putOps: 50,
  putWriters: 16,
  putOpsPerWriter: 5,
  propagationOps: 20,
  catchUpChanges: 200,
  catchUpKeys: 50,
  scaleEntities: 1000,
  scaleGets: 100,
  contentionWriters: 16,
  contentionIncrements: 3
}
