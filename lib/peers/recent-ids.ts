/**
 * The last few thousand ids seen, oldest forgotten first: how a node
 * recognises a key query it already answered when it comes again (a replay
 * by someone who recorded it), in bounded memory.
 */
export class RecentIds {
  readonly #capacity: number
  readonly #ids = new Set<string>()

  constructor (capacity: number) {
    this.#capacity = capacity
  }

  /** Adds `id`; `false` if it was already there. */
  add (id: string): boolean {
    if (this.#ids.has(id)) return false
    this.#ids.add(id)
    // A Set iterates in insertion order: the first is the oldest.
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value as string)
    return true
  }
}
