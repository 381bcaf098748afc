/**
 * The entries of the client's read cache: per key the newest version known
 * and, when known, what it holds. A pure structure (no I/O, no clock), so the
 * rule that keeps the cache from going backwards is in one place.
 *
 *   offer (key, version, state)          the slot becomes (version, state) when
 *                                        version > the slot's, or = and the slot
 *                                        holds no state yet; else unchanged
 *   raise (key, version)                 the slot becomes (version, unknown)
 *                                        when version > the slot's: a later get
 *                                        reads through until state comes
 *
 * A state is an {@link Entity} or `null` for a tombstone. Versions of a key
 * are gapless and only grow, so taking the larger is right whichever came
 * first: a read answered before a change, or the change's event delivered
 * after a newer read. Only keys that have a slot already, or a read in flight
 * (`track`), take offers and raises; the first read fills the rest. Beyond
 * `maxKeys` the least recently used slot without a read in flight goes.
 */
import type { Entity } from '../types.js'

/** What a slot knows of its key. */
export interface Slot {
  version: number
  /** The entity at `version`, `null` when `version` is a delete, `undefined` while unknown. */
  state: Entity | null | undefined
}

export class CacheSlots {
  readonly #max: number
  // Insertion order is recency order: a hit moves its key to the end.
  readonly #slots = new Map<string, Slot>()
  // Reads in flight per key.
  readonly #reading = new Map<string, number>()

  constructor (maxKeys: number) {
    this.#max = maxKeys
  }

  /** Keys held. */
  get size (): number {
    return this.#slots.size
  }

  /** The slot of `key` with a known state, now the most recently used; `undefined` on a miss. */
  hit (key: string): Slot | undefined {
    const slot = this.#slots.get(key)
    if (slot === undefined || slot.state === undefined) return undefined
    this.#slots.delete(key)
    this.#slots.set(key, slot)
    return slot
  }

  /** The slot of `key` as it is, its recency unchanged. */
  peek (key: string): Readonly<Slot> | undefined {
    return this.#slots.get(key)
  }

  /** Marks a read of `key` in flight until the returned function is called. */
  track (key: string): () => void {
    this.#reading.set(key, (this.#reading.get(key) ?? 0) + 1)
    return () => {
      const n = (this.#reading.get(key) ?? 1) - 1
      if (n === 0) this.#reading.delete(key)
      else this.#reading.set(key, n)
    }
  }

  /** Offers `key`'s `state` at `version`; `fill` makes a slot for a key that has none (a read's answer). */
  offer (key: string, version: number, state: Entity | null, fill = false): void {
    const slot = this.#slots.get(key)
    if (slot === undefined) {
      if (fill || this.#reading.has(key)) this.#add(key, { version, state })
      return
    }
    if (version > slot.version || (version === slot.version && slot.state === undefined)) {
      slot.version = version
      slot.state = state
    }
  }

  /** `key` is at `version` at least, its state not known here (a write through this client). */
  raise (key: string, version: number): void {
    const slot = this.#slots.get(key)
    if (slot === undefined) {
      if (this.#reading.has(key)) this.#add(key, { version, state: undefined })
      return
    }
    if (version > slot.version) {
      slot.version = version
      slot.state = undefined
    }
  }

  /** Forgets `key`. */
  delete (key: string): void {
    this.#slots.delete(key)
  }

  /** Forgets every key that starts with `prefix`. */
  dropPrefix (prefix: string): void {
    for (const key of this.#slots.keys()) {
      if (key.startsWith(prefix)) this.#slots.delete(key)
    }
  }

  #add (key: string, slot: Slot): void {
    this.#slots.set(key, slot)
    if (this.#slots.size <= this.#max) return
    for (const old of this.#slots.keys()) {
      if (this.#slots.size <= this.#max) return
      // A key with a read in flight keeps its slot: it carries what that read must not undo.
      if (!this.#reading.has(old)) this.#slots.delete(old)
    }
  }
}
