/**
 * The client side of `GET /v1/watch`: an async iterator over the SSE stream
 * that reconnects on its own and resumes from the last complete sequence it
 * delivered (lib/client/watch-cursor.ts).
 *
 *   start ──► (no `since`: read `appliedSeq` from /v1/status) ──► connect
 *   connect ──200──► read events; deliver those not delivered yet; move the cursor
 *   stream ends, socket error, 503, timeout, retryable `error` event,
 *   `closed` event (WATCH_OVERFLOW: this consumer fell too far behind)
 *     ──► wait (the server's `retry:`, else backoff) ──► connect with Last-Event-ID: cursor
 *   MAX_IDLE_OVERFLOWS overflows in a row that delivered nothing ──► the iterator throws WATCH_OVERFLOW
 *   any other error status or `error` event ──► the iterator throws it
 *   signal aborts, iterator returns, client closes ──► the iterator ends
 *
 * Because every connection after the first resumes from the cursor, a daemon
 * restart neither loses nor repeats a change: the cursor only moves forward,
 * a replayed sequence at or below it is dropped, and so is the part of a
 * changeset delivered before the connection was cut. `resync` events carry a
 * key's state rather than a change (their seq is that key's latest, ahead of
 * the changes that follow them), so they leave the cursor alone and may be
 * sent again after a reconnect.
 */
import { stoppable } from './stoppable.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError } from '../errors.js'
import type { ChangeEvent } from '../types.js'
import { errorFromResponse, errorFromTransport } from './error-codec.js'
import type { Http } from './http.js'
import { createSseParser } from './sse-parser.js'
import type { SseEvent } from './sse-parser.js'
import { WatchCursor } from './watch-cursor.js'

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
  /** Told `true` when a stream is open (the daemon answered 200) and `false` when it ends or fails. */
  onLink?: (up: boolean) => void
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
  return stoppable(params.signal, signal => follow({ ...params, signal }))
}

async function * follow (params: WatchParams): AsyncGenerator<ChangeEvent, void, undefined> {
  const { http, prefix, signal } = params
  let cursor = params.since === undefined ? undefined : new WatchCursor(params.since)
  let delivered = 0
  let delay = params.initialDelayMs
  let serverRetry: number | undefined
  let idleOverflows = 0
  while (!signal.aborted) {
    const before = delivered
    try {
      cursor ??= new WatchCursor(await startingPoint(http, signal))
      const since = String(cursor.seq)
      const query = new URLSearchParams({ ...(prefix !== '' ? { prefix } : {}), since })
      const res = await http.stream({
        method: 'GET',
        path: `/v1/watch?${query.toString()}`,
        headers: { accept: 'text/event-stream', 'last-event-id': since },
        idleTimeoutMs: params.idleTimeoutMs,
        signal
      })
      delay = serverRetry ?? params.initialDelayMs
      params.onLink?.(true)
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
            if (change === undefined || !cursor.admit(change)) continue
            // A resync may come again after each reconnection: it is no progress.
            if (change.op !== 'resync') delivered++
            yield change
          }
        }
      } finally {
        res.body.destroy()
        params.onLink?.(false)
      }
    } catch (err) {
      if (signal.aborted) return
      const error = errorFromTransport(err, http.target)
      if (!error.retryable) throw error
      if (error.code === 'WATCH_OVERFLOW') {
        idleOverflows = delivered === before ? idleOverflows + 1 : 0
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
