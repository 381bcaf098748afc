/**
 * A server-sent events stream on a raw HTTP response: `id:`/`event:`/`data:`
 * events, a `retry:` hint, a comment heartbeat, and backpressure (an event is
 * written only once the socket took the previous one).
 *
 * A client that stops reading must not make the daemon hold memory or a
 * connection without bound: while the socket is full nothing more is written
 * (not even a heartbeat), a socket that takes nothing for the stall time is
 * given up, and an ended stream whose socket still does not take its last
 * bytes within the stall time is destroyed.
 */
import { once } from 'node:events'
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/** How long a client should wait before reconnecting, sent as `retry:`. */
export const SSE_RETRY_MS = 1000

/** How many heartbeat intervals a socket may take nothing before the stream is given up. */
export const SSE_STALL_HEARTBEATS = 4

/** What became of an event: the socket took it, the stream is closed, or the socket took nothing for the stall time. */
export type SendResult = 'sent' | 'closed' | 'stalled'

export class SseStream {
  readonly #res: ServerResponse
  readonly #heartbeat: NodeJS.Timeout
  readonly #stallMs: number
  #ended = false

  /**
   * Sends the status line and headers (plus `headers`, e.g. the correlation id)
   * and starts the heartbeat; the stall time is {@link SSE_STALL_HEARTBEATS} intervals.
   */
  constructor (res: ServerResponse, headers: OutgoingHttpHeaders, heartbeatMs: number) {
    this.#res = res
    this.#stallMs = heartbeatMs * SSE_STALL_HEARTBEATS
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // The connection serves this stream only: when it ends (client gone, daemon closing), the socket closes too.
      connection: 'close',
      'x-accel-buffering': 'no'
    })
    res.write(`retry: ${SSE_RETRY_MS}\n\n`)
    // A full socket needs no heartbeat to stay alive, and queueing them there would grow without bound.
    this.#heartbeat = setInterval(() => { if (!this.closed && !res.writableNeedDrain) res.write(`: heartbeat ${new Date().toISOString()}\n\n`) }, heartbeatMs)
    this.#heartbeat.unref()
    res.once('close', () => clearInterval(this.#heartbeat))
  }

  /** Whether the client went away or {@link SseStream.end} was called. */
  get closed (): boolean {
    return this.#res.writableEnded || this.#res.destroyed
  }

  /**
   * Writes one event, with an `id:` line unless `id` is undefined (the client's
   * last event id then stays what it was); resolves once the socket can take
   * more, the stream closed, or the socket stalled.
   */
  async send (id: number | undefined, event: string, data: unknown): Promise<SendResult> {
    if (this.closed) return 'closed'
    if (this.#res.write(format(id, event, data))) return 'sent'
    return await this.#drained()
  }

  /** Writes a last event (whether or not the socket is full: one event more is bounded) and ends the stream. */
  finish (event: string, data: unknown): void {
    if (!this.closed) this.#res.write(format(undefined, event, data))
    this.end()
  }

  /** Ends the response; a socket that does not take its last bytes within the stall time is destroyed. */
  end (): void {
    clearInterval(this.#heartbeat)
    if (this.#ended || this.#res.destroyed) return
    this.#ended = true
    if (!this.#res.writableEnded) this.#res.end()
    const res = this.#res
    const timer = setTimeout(() => res.destroy(), this.#stallMs)
    timer.unref()
    res.once('close', () => clearTimeout(timer))
  }

  async #drained (): Promise<SendResult> {
    // One signal removes both listeners whichever way the wait ends, so waiting for every drain leaks none.
    const done = new AbortController()
    const timer = setTimeout(() => done.abort(), this.#stallMs)
    try {
      await Promise.race([once(this.#res, 'drain', { signal: done.signal }), once(this.#res, 'close', { signal: done.signal })])
      return this.closed ? 'closed' : 'sent'
    } catch {
      return this.closed ? 'closed' : 'stalled'
    } finally {
      clearTimeout(timer)
      done.abort()
    }
  }
}

function format (id: number | undefined, event: string, data: unknown): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
