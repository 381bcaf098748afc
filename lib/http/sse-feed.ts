/**
 * Serves an async feed of events as a server-sent event stream: the one loop
 * behind `/v1/watch` and `/v1/rotations/events`. It opens the feed before
 * taking over the response (so a refusal, e.g. the watcher cap, is still an
 * ordinary error answer, with `Retry-After` for `UNAVAILABLE`), sends each
 * event once the socket takes the previous one, and ends a client that does
 * not keep up with a last `closed` event: `{ code: 'WATCH_OVERFLOW', message,
 * reason, ...closing() }`. A stream opened with a scoped token that is then
 * revoked ends with a last `closed` event `{ code: 'UNAUTHORIZED', message,
 * reason: 'revoked', ...closing() }`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CredregError, isCredregError } from '../errors.js'
import type { HttpContext } from './context.js'
import { CORRELATION_HEADER } from './correlation.js'
import { toCredregError } from './error-handler.js'
import { SSE_RETRY_MS, SSE_STALL_HEARTBEATS, SseStream } from './sse.js'

/** How one feed is served. */
export interface FeedOptions<E> {
  /** Opens the feed, ended by `signal`; may throw (before anything is sent). */
  open: (signal: AbortSignal) => AsyncIterableIterator<E>
  /** Each event's SSE `id` (none: the client's last id stays as it was) and name. */
  frame: (event: E) => { id: number | undefined, name: string }
  /** For log lines: what the stream is ('watch', 'rotation events'), and fields to log with it. */
  what: string
  fields?: Record<string, unknown>
  /** What a client that fell behind is told to do. */
  resumeHint: string
  /** Called with each event's `id` (and the event) once the client was sent the event. */
  sent?: (id: number | undefined, event: E) => void
  /** Extra fields of the `closed` event, as things stand when it is sent. */
  closing?: () => Record<string, unknown>
  /** Called once the stream is open, and once it has ended. */
  onOpen?: () => void
  onEnd?: () => void
}

/** Serves `options`' feed on `reply` until the feed ends, the client goes or the server closes `streams`. */
export async function serveFeed<E> (request: FastifyRequest, reply: FastifyReply, ctx: HttpContext, streams: Set<SseStream>, options: FeedOptions<E>): Promise<void> {
  const { what, fields = {} } = options
  const abort = new AbortController()
  let events: AsyncIterableIterator<E>
  try {
    events = options.open(abort.signal)
  } catch (err) {
    if (isCredregError(err, 'UNAVAILABLE')) reply.header('retry-after', String(Math.ceil(SSE_RETRY_MS / 1000)))
    throw err
  }
  reply.hijack()
  const stream = new SseStream(reply.raw, { [CORRELATION_HEADER]: request.id }, ctx.sseHeartbeatMs)
  reply.raw.once('close', () => abort.abort())
  streams.add(stream)
  // A token revoked while its stream is open ends the stream: it would go on telling what the token no longer may read.
  const token = request.callerScope.token
  const stopRevoke = token === undefined
    ? undefined
    : ctx.tokens.onRevoke(name => {
      if (name !== token || abort.signal.aborted) return
      request.log.info({ ...fields, token }, `${what} closed: its token was revoked`)
      stream.finish('closed', { ...new CredregError('UNAUTHORIZED', 'the token of this stream was revoked').toJSON(), reason: 'revoked', ...options.closing?.() ?? {} })
      abort.abort()
    })
  options.onOpen?.()
  request.log.debug(fields, `${what} opened`)
  const overflow = (reason: 'overflow' | 'stalled', error: CredregError): void => {
    const closing = options.closing?.() ?? {}
    request.log.info({ ...fields, reason, ...closing }, `${what} closed: the client does not keep up`)
    ctx.metrics.watchOverflow(reason)
    stream.finish('closed', { ...error.toJSON(), reason, ...closing })
  }
  try {
    for await (const event of events) {
      const { id, name } = options.frame(event)
      const sent = await stream.send(id, name, event)
      if (sent === 'closed') break
      options.sent?.(id, event)
      if (sent === 'stalled') {
        overflow('stalled', new CredregError('WATCH_OVERFLOW', `the client took nothing for ${ctx.sseHeartbeatMs * SSE_STALL_HEARTBEATS} ms: ${options.resumeHint}`))
        break
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      const error = toCredregError(err)
      if (error.code === 'WATCH_OVERFLOW') {
        overflow('overflow', error)
      } else {
        request.log.warn({ err }, `${what} failed`)
        await stream.send(undefined, 'error', error.toJSON())
      }
    }
  } finally {
    stopRevoke?.()
    abort.abort()
    streams.delete(stream)
    options.onEnd?.()
    stream.end()
    request.log.debug(fields, `${what} closed`)
  }
}
