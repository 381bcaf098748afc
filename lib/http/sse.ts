/**
 * A server-sent events stream on a raw HTTP response: `id:`/`event:`/`data:`
 * events, a `retry:` hint, a comment heartbeat, and backpressure (an event is
 * written only once the socket took the previous one).
 */
import { once } from 'node:events'
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/** How long a client should wait before reconnecting, sent as `retry:`. */
export const SSE_RETRY_MS = 1000

export class SseStream {
  readonly #res: ServerResponse
  readonly #heartbeat: NodeJS.Timeout

  /** Sends the status line and headers (plus `headers`, e.g. the correlation id) and starts the heartbeat. */
  constructor (res: ServerResponse, headers: OutgoingHttpHeaders, heartbeatMs: number) {
    this.#res = res
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // The connection serves this stream only: when it ends (client gone, daemon closing), the socket closes too.
      connection: 'close',
      'x-accel-buffering': 'no'
    })
    res.write(`retry: ${SSE_RETRY_MS}\n\n`)
    this.#heartbeat = setInterval(() => { if (!this.closed) res.write(`: heartbeat ${new Date().toISOString()}\n\n`) }, heartbeatMs)
    this.#heartbeat.unref()
    res.once('close', () => clearInterval(this.#heartbeat))
  }

  /** Whether the client went away or {@link SseStream.end} was called. */
  get closed (): boolean {
    return this.#res.writableEnded || this.#res.destroyed
  }

  /** Writes one event; resolves once the socket can take more (or the stream closed). */
  async send (id: number | undefined, event: string, data: unknown): Promise<void> {
    if (this.closed) return
    const head = id === undefined ? '' : `id: ${id}\n`
    if (!this.#res.write(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) {
      await Promise.race([once(this.#res, 'drain'), once(this.#res, 'close')])
    }
  }

  /** Ends the response. */
  end (): void {
    clearInterval(this.#heartbeat)
    if (!this.closed) this.#res.end()
  }
}
