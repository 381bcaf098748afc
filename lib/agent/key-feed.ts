/**
 * The values of a set of keys, first as one consistent snapshot, then as
 * batches of changes: a batch ends at a changeset's last change (never inside
 * one) once no change came for a short debounce, so one changeset, or one
 * burst of writes, makes one batch. Values come from the change events
 * themselves, in log order, so every batch is the state of the register at
 * one log sequence for those keys, never a mix of two.
 */
import type { CredregClient } from '../client/client.js'
import { CredregError } from '../errors.js'
import type { ChangeEvent, JsonObject } from '../types.js'

/** The keys' values at one point of the log. */
export interface FeedState {
  /** The value of every key that exists. */
  values: Map<string, JsonObject>
  /** The correlation ids of the changes since the previous state (none for the snapshot). */
  correlationIds: string[]
  /** The log sequence this state is at. */
  seq: number
}

/** Options of {@link KeyFeed}. */
export interface KeyFeedOptions {
  /** Quiet time after a change before a batch ends (default 100 ms). */
  debounceMs?: number
  /** A batch ends at a changeset boundary after this long even if changes keep coming (default 1000 ms). */
  maxDelayMs?: number
}

/** How long a changeset left open (its last changes outside the watched prefix) may wait for more. */
const OPEN_CHANGESET_MS = 1000
const SNAPSHOT_ATTEMPTS = 5

/** The keys `keys` of the daemon of `client`. */
export class KeyFeed {
  readonly #client: CredregClient
  readonly #keys: ReadonlySet<string>
  readonly #prefix: string
  readonly #debounceMs: number
  readonly #maxDelayMs: number
  readonly #values = new Map<string, JsonObject>()
  readonly #versions = new Map<string, number>()
  #seq = 0

  constructor (client: CredregClient, keys: Iterable<string>, options: KeyFeedOptions = {}) {
    this.#client = client
    this.#keys = new Set(keys)
    this.#prefix = commonPrefix([...this.#keys])
    this.#debounceMs = options.debounceMs ?? 100
    this.#maxDelayMs = options.maxDelayMs ?? 1000
  }

  /**
   * Reads every key; the reads count as one snapshot only if the daemon applied
   * nothing while they ran, else they are read again. A missing key is absent
   * from `values`.
   */
  async snapshot (): Promise<FeedState> {
    for (let attempt = 1; ; attempt++) {
      const before = (await this.#client.status()).appliedSeq
      const read = await Promise.all([...this.#keys].map(async key => await this.#client.get(key).catch((err: unknown) => {
        if (err instanceof CredregError && err.code === 'NOT_FOUND') return undefined
        throw err
      })))
      const after = (await this.#client.status()).appliedSeq
      if (after !== before && attempt < SNAPSHOT_ATTEMPTS) continue
      this.#values.clear()
      this.#versions.clear()
      for (const entity of read) {
        if (entity === undefined) continue
        this.#versions.set(entity.key, entity.version)
        if (entity.value !== undefined) this.#values.set(entity.key, entity.value)
      }
      this.#seq = before
      return this.#state([])
    }
  }

  /** The states after each batch of changes since the snapshot, until `signal` aborts. */
  async * changes (signal: AbortSignal): AsyncGenerator<FeedState> {
    const iterator = this.#client.watch(this.#prefix, { since: this.#seq, signal })
    let next = iterator.next()
    let pending: string[] = []
    let firstAt = 0
    let open = false
    try {
      while (true) {
        const wait: number | undefined = pending.length === 0 ? undefined : open ? OPEN_CHANGESET_MS : Math.max(0, Math.min(this.#debounceMs, firstAt + this.#maxDelayMs - Date.now()))
        const got: IteratorResult<ChangeEvent> | undefined = await within(next, wait)
        if (got === undefined) {
          yield this.#state(pending)
          pending = []
          open = false
          continue
        }
        if (got.done === true) return
        next = iterator.next()
        const event: ChangeEvent = got.value
        open = event.changeset !== undefined && event.changeset.index < event.changeset.size - 1
        this.#seq = event.seq
        if (!this.#apply(event)) continue
        if (pending.length === 0) firstAt = Date.now()
        if (!pending.includes(event.meta.correlationId)) pending.push(event.meta.correlationId)
      }
    } finally {
      await iterator.return?.()
    }
  }

  /** Takes `event` in; whether it changed one of the keys. */
  #apply (event: ChangeEvent): boolean {
    if (!this.#keys.has(event.key)) return false
    if (event.op !== 'resync' && event.version <= (this.#versions.get(event.key) ?? 0)) return false
    this.#versions.set(event.key, event.version)
    if (event.value === undefined || event.op === 'delete' || event.deleted === true) this.#values.delete(event.key)
    else this.#values.set(event.key, event.value)
    return true
  }

  #state (correlationIds: string[]): FeedState {
    return { values: new Map(this.#values), correlationIds, seq: this.#seq }
  }
}

/** What `promise` resolves with, or undefined after `ms` (never, when undefined). */
async function within<T> (promise: Promise<T>, ms: number | undefined): Promise<T | undefined> {
  if (ms === undefined) return await promise
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The longest common prefix of `keys`. */
function commonPrefix (keys: string[]): string {
  if (keys.length === 0) return ''
  let prefix = keys[0] as string
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1)
  return prefix
}
