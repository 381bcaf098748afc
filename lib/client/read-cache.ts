/**
 * The client's read cache (`connect({ socket, cache })`): the keys `get`
 * reads under the configured prefixes, kept in memory and fresh through one
 * watch per prefix, the way Vault Agent's cache follows its server. The
 * guarantees are stated on `CacheOptions` (lib/client/types.ts) and in
 * docs/read-cache.md; the version rule is lib/client/cache-slots.ts.
 *
 * Per prefix, a feed:
 *
 *   start            read the daemon's applied sequence S, watch from S: every
 *                    change after S comes as an event, so a read answered after
 *                    S may be cached (later changes will follow it)
 *   link up          the watch stream is open: serve from memory; after a gap
 *                    longer than `staleAfterMs` drop the prefix first (its keys
 *                    were not followed long enough to trust them)
 *   link down        serve from memory for `staleAfterMs`, then read through
 *   watch throws     (a WATCH_OVERFLOW it gave up on, LOG_DIVERGED, …) events
 *                    were lost: drop the prefix, start again after a backoff
 *
 * Dropping a prefix bumps its epoch: a read sent before the drop does not
 * fill the cache with an answer the new watch may not follow.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError, isCredregError } from '../errors.js'
import type { Change, ChangeEvent, CommitResult, Entity } from '../types.js'
import { CacheSlots } from './cache-slots.js'
import type { CacheOptions, CacheStatus, CacheWatchStatus } from './types.js'

const DEFAULT_MAX_KEYS = 10_000
const DEFAULT_STALE_AFTER_MS = 5000

/** What the cache needs of the client. */
export interface CacheSource {
  /** The daemon's applied sequence (`GET /v1/status`). */
  appliedSeq: (signal: AbortSignal) => Promise<number>
  /** Changes under `prefix` after `since`, across reconnects; `onLink` follows the stream. */
  watch: (prefix: string, since: number, signal: AbortSignal, onLink: (up: boolean) => void) => AsyncIterableIterator<ChangeEvent>
  /** Aborts when the client closes. */
  closed: AbortSignal
  /** Backoff between restarts of a watch that threw. */
  initialDelayMs: number
  maxDelayMs: number
}

/** One prefix and the watch that follows it. */
interface Feed {
  prefix: string
  epoch: number
  /** Whether the current epoch's watch has its starting sequence. */
  started: boolean
  live: boolean
  downSince: number
  lastSeq?: number
  lastEventAt?: number
  lastError?: string
}

export class ReadCache {
  readonly #slots: CacheSlots
  readonly #maxKeys: number
  readonly #staleAfterMs: number
  readonly #feeds: Feed[]
  readonly #source: CacheSource
  #loops: Array<Promise<void>> | undefined
  #hits = 0
  #misses = 0

  constructor (options: CacheOptions, source: CacheSource) {
    const { prefixes, maxKeys = DEFAULT_MAX_KEYS, staleAfterMs = DEFAULT_STALE_AFTER_MS } = options
    if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every(p => typeof p === 'string')) throw new TypeError('cache.prefixes must be a non-empty array of strings')
    for (const a of prefixes) {
      for (const b of prefixes) {
        if (a !== b && b.startsWith(a)) throw new TypeError(`cache.prefixes overlap: ${JSON.stringify(b)} starts with ${JSON.stringify(a)}`)
      }
    }
    if (new Set(prefixes).size !== prefixes.length) throw new TypeError('cache.prefixes has a prefix twice')
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new TypeError(`cache.maxKeys must be a positive integer, got ${String(maxKeys)}`)
    if (!Number.isSafeInteger(staleAfterMs) || staleAfterMs < 0) throw new TypeError(`cache.staleAfterMs must be a non-negative integer, got ${String(staleAfterMs)}`)
    this.#slots = new CacheSlots(maxKeys)
    this.#maxKeys = maxKeys
    this.#staleAfterMs = staleAfterMs
    this.#source = source
    const now = Date.now()
    this.#feeds = prefixes.map(prefix => ({ prefix, epoch: 0, started: false, live: false, downSince: now }))
  }

  /** `key`'s latest version: from memory when its prefix is cached and served, else `read()` (whose answer may fill the cache). */
  async get (key: string, read: () => Promise<Entity>): Promise<Entity> {
    const feed = this.#feedOf(key)
    // A closed client answers CLOSED, as without a cache.
    if (feed === undefined || this.#source.closed.aborted) return await read()
    this.#start()
    if (this.#serving(feed, Date.now())) {
      const slot = this.#slots.hit(key)
      if (slot !== undefined) {
        this.#hits++
        if (slot.state === null) throw new CredregError('NOT_FOUND', `${key} does not exist`, { key })
        // A copy: the caller may change what it got, the cache must not see it.
        return structuredClone(slot.state as Entity)
      }
    }
    this.#misses++
    const epoch = feed.started ? feed.epoch : undefined
    const done = this.#slots.track(key)
    try {
      const entity = await read()
      if (epoch === feed.epoch) this.#slots.offer(key, entity.version, structuredClone(entity), true)
      return entity
    } catch (err) {
      if (isCredregError(err, 'FORBIDDEN')) this.#slots.delete(key)
      throw err
    } finally {
      done()
    }
  }

  /** A write through this client made `version` of `key` (a delete: its tombstone). */
  wrote (key: string, version: number, deleted: boolean): void {
    if (this.#feedOf(key) === undefined) return
    if (deleted) this.#slots.offer(key, version, null)
    else this.#slots.raise(key, version)
  }

  /** A changeset committed through this client. */
  committed (changes: Change[], result: CommitResult): void {
    const deletes = new Set(changes.filter(c => c.op === 'delete').map(c => c.key))
    for (const r of result.results) this.wrote(r.key, r.version, deletes.has(r.key))
  }

  /** Where each watch stands, and how many keys are held. */
  status (): CacheStatus {
    const now = Date.now()
    const watches = this.#feeds.map((f): CacheWatchStatus => ({
      prefix: f.prefix,
      live: f.live,
      serving: this.#serving(f, now),
      ...(f.lastSeq !== undefined ? { lastSeq: f.lastSeq } : {}),
      ...(f.lastEventAt !== undefined ? { lastEventAgeMs: now - f.lastEventAt } : {}),
      ...(!f.live ? { downForMs: now - f.downSince } : {}),
      ...(f.lastError !== undefined ? { lastError: f.lastError } : {})
    }))
    return { keys: this.#slots.size, maxKeys: this.#maxKeys, hits: this.#hits, misses: this.#misses, watches }
  }

  /** Resolves once every watch has ended (after the client closed). */
  async stopped (): Promise<void> {
    await Promise.all(this.#loops ?? [])
  }

  #feedOf (key: string): Feed | undefined {
    return this.#feeds.find(f => key.startsWith(f.prefix))
  }

  #serving (feed: Feed, now: number): boolean {
    return feed.live || now - feed.downSince < this.#staleAfterMs
  }

  // The watches open with the first get of a cached key: like every call, connect() sends nothing.
  #start (): void {
    if (this.#loops !== undefined || this.#source.closed.aborted) return
    const now = Date.now()
    for (const feed of this.#feeds) feed.downSince = now
    this.#loops = this.#feeds.map(async feed => await this.#follow(feed))
  }

  async #follow (feed: Feed): Promise<void> {
    const { closed: signal, initialDelayMs, maxDelayMs } = this.#source
    let delay = initialDelayMs
    while (!signal.aborted) {
      try {
        const since = await this.#source.appliedSeq(signal)
        feed.started = true
        for await (const change of this.#source.watch(feed.prefix, since, signal, up => { this.#link(feed, up) })) {
          delay = initialDelayMs
          this.#apply(change)
          feed.lastEventAt = Date.now()
          // A resync's seq is its key's latest, possibly ahead of changes still to come.
          if (change.op !== 'resync') feed.lastSeq = change.seq
        }
      } catch (err) {
        if (signal.aborted) return
        feed.lastError = isCredregError(err) ? err.code : 'INTERNAL'
      }
      // The watch ended without the client closing: what it would have told is lost.
      this.#link(feed, false)
      this.#drop(feed)
      feed.started = false
      try {
        await sleep(Math.round(delay * (0.75 + Math.random() * 0.5)), undefined, { signal })
      } catch {
        return
      }
      delay = Math.min(delay * 2, maxDelayMs)
    }
  }

  #link (feed: Feed, up: boolean): void {
    const now = Date.now()
    if (up && !feed.live) {
      if (now - feed.downSince >= this.#staleAfterMs) this.#drop(feed)
      feed.live = true
    } else if (!up && feed.live) {
      feed.live = false
      feed.downSince = now
    }
  }

  #drop (feed: Feed): void {
    feed.epoch++
    this.#slots.dropPrefix(feed.prefix)
  }

  #apply (change: ChangeEvent): void {
    const gone = change.op === 'resync' ? change.deleted === true : change.op === 'delete'
    const entity: Entity = { key: change.key, version: change.version, value: change.value ?? {}, meta: change.meta }
    this.#slots.offer(change.key, change.version, gone ? null : entity)
  }
}
