/**
 * The client side of `GET /v1/watch`: an async iterator over the SSE stream
 * that reconnects on its own and resumes from the last sequence it delivered.
 *
 *   start ──► (no `since`: read `appliedSeq` from /v1/status) ──► connect
 *   connect ──200──► read events; deliver those with seq > cursor; cursor = seq
 *   stream ends, socket error, 503, timeout, retryable `error` event,
 *   `closed` event (WATCH_OVERFLOW: this consumer fell too far behind)
 *     ──► wait (the server's `retry:`, else backoff) ──► connect with Last-Event-ID: cursor
 *   MAX_IDLE_OVERFLOWS overflows in a row that delivered nothing ──► the iterator throws WATCH_OVERFLOW
 *   any other error status or `error` event ──► the iterator throws it
 *   signal aborts, iterator returns, client closes ──► the iterator ends
 *
 * Because every connection after the first resumes from the cursor, a daemon
 * restart neither loses nor repeats a change: the cursor only moves forward
 * and a replayed sequence at or below it is dropped. `resync` events carry a
 * key's state rather than a change (their seq is that key's latest, ahead of
 * the changes that follow them), so they leave the cursor alone and may be
 * sent again after a reconnect. The changes of one changeset share a
 * sequence, so the cursor moves past it only once its last change is
 * delivered (or a later sequence comes: a watch of a prefix may get only
 * some of its changes); a reconnection in the middle of one gets it again,
 * and only the changes after the last one delivered are delivered.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError } from '../errors.js'
import type { ChangeEvent } from '../types.js'
import { errorFromResponse, errorFromTransport } from './error-codec.js'
import type { Http } from './http.js'
import { createSseParser } from './sse-parser.js'
import type { SseEvent } from './sse-parser.js'

/** How a watch reconnects. */
export interface ReconnectOptions {
  /** First delay after a lost connection, unless the server sent `retry:` (default 250 ms). */
  initialDelayMs?: number
  /** Upper bound of the doubling delay (default 5000 ms). */
  maxDelayMs?: number
  /** A connection silent for this long is dropped and reopened (default 45000 ms: three missed heartbeats). */
  idleTimeoutMs?: number
}

interface WatchParams extends Required<ReconnectOptions> {
  http: Http
  prefix: string
  since: number | undefined
  signal: AbortSignal
}

const OPS = new Set(['put', 'patch', 'delete', 'resync'])

/**
 * Overflow closes in a row, each without a single change delivered, after
 * which the watch gives up: a consumer that slow would reconnect forever.
 */
export const MAX_IDLE_OVERFLOWS = 3

/**
 * Changes to keys under `params.prefix`, in log order, across reconnects.
 * Unlike a bare async generator, `return()` also ends a `next()` that is
 * waiting for the daemon.
 */
export function watchChanges (params: WatchParams): AsyncIterableIterator<ChangeEvent> {
  const stop = new AbortController()
  const changes = follow({ ...params, signal: AbortSignal.any([params.signal, stop.signal]) })
  return {
    next: async () => await changes.next(),
    return: async () => {
      stop.abort()
      return await changes.return()
    },
    [Symbol.asyncIterator] () { return this }
  }
}

async function * follow (params: WatchParams): AsyncGenerator<ChangeEvent, void, undefined> {
  const { http, prefix, signal } = params
  let cursor = params.since
  // The changeset being delivered: its sequence and the last of its changes delivered. The cursor stays
  // below it until it is whole, so a reconnection gets all of it again and the rest is delivered.
  let partial: { seq: number, index: number } | undefined
  let delay = params.initialDelayMs
  let serverRetry: number | undefined
  let idleOverflows = 0
  while (!signal.aborted) {
    const from = cursor
    try {
      if (cursor === undefined) cursor = await startingPoint(http, signal)
      const query = new URLSearchParams({ ...(prefix !== '' ? { prefix } : {}), since: String(cursor) })
      const res = await http.stream({
        method: 'GET',
        path: `/v1/watch?${query.toString()}`,
        headers: { accept: 'text/event-stream', 'last-event-id': String(cursor) },
        idleTimeoutMs: params.idleTimeoutMs,
        signal
      })
      delay = serverRetry ?? params.initialDelayMs
      const events: SseEvent[] = []
      const parser = createSseParser({
        onEvent: (e) => events.push(e),
        onRetry: (ms) => { serverRetry = delay = ms }
      })
      try {
        for await (const chunk of res.body) {
          parser.feed(chunk as Buffer)
          for (const e of events.splice(0)) {
            const change = toChange(e)
            if (change === undefined) continue
            if (change.op !== 'resync') {
              // A later sequence: the changeset part of which was delivered has no more changes for this watch.
              if (partial !== undefined && change.seq > partial.seq) {
                cursor = partial.seq
                partial = undefined
              }
              if (change.seq <= cursor) continue
              const position = change.changeset
              if (partial !== undefined && position !== undefined && position.index <= partial.index) continue
              if (position !== undefined && position.index < position.size - 1) {
                partial = { seq: change.seq, index: position.index }
              } else {
                cursor = change.seq
                partial = undefined
              }
            }
            yield change
          }
        }
      } finally {
        res.body.destroy()
      }
    } catch (err) {
      if (signal.aborted) return
      const error = errorFromTransport(err, http.target)
      if (!error.retryable) throw error
      if (error.code === 'WATCH_OVERFLOW') {
        idleOverflows = cursor === from ? idleOverflows + 1 : 0
        if (idleOverflows >= MAX_IDLE_OVERFLOWS) throw error
      }
    }
    try {
      await sleep(jitter(delay), undefined, { signal })
    } catch {
      return
    }
    delay = Math.min(delay * 2, params.maxDelayMs)
  }
}

/** The daemon's applied sequence: a watch without `since` starts there, so later reconnects lose nothing. */
async function startingPoint (http: Http, signal: AbortSignal): Promise<number> {
  const res = await http.request({ method: 'GET', path: '/v1/status', signal })
  const appliedSeq = (res.json as { appliedSeq?: unknown } | undefined)?.appliedSeq
  if (typeof appliedSeq !== 'number') throw new CredregError('INTERNAL', 'GET /v1/status answered without appliedSeq')
  return appliedSeq
}

/**
 * The change an event carries; an `error` event (the daemon's watch failed)
 * and a `closed` event (the daemon closed a watch that fell behind) throw their typed error.
 */
function toChange (e: SseEvent): ChangeEvent | undefined {
  if (e.event === 'error') throw errorFromResponse({ status: 500, body: e.data })
  if (e.event === 'closed') throw errorFromResponse({ status: 503, body: e.data })
  if (!OPS.has(e.event) && e.event !== 'message') return undefined
  let change: ChangeEvent
  try {
    change = JSON.parse(e.data) as ChangeEvent
  } catch (err) {
    throw new CredregError('INTERNAL', `the watch stream sent an event that is not JSON (id ${e.id})`, { cause: err })
  }
  if (typeof change !== 'object' || change === null || typeof change.seq !== 'number' || !OPS.has(change.op)) {
    throw new CredregError('INTERNAL', `the watch stream sent an event that is not a change (id ${e.id})`)
  }
  return change
}

function jitter (ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5))
}
