/**
 * `GET /v1/watch?prefix=&since=`: change events as server-sent events. Each
 * event's `id` is its log sequence and its `event` the change's op (or
 * `resync`); `Last-Event-ID` resumes exactly like `since`.
 *
 * A `resync` event carries no `id`: its seq is its key's latest, possibly
 * ahead of changes still to come, so it must not move a client's resume point.
 */
import { CredregError } from '../../errors.js'
import { assertPrefix } from '../../key.js'
import type { HttpApp, HttpContext } from '../context.js'
import { CORRELATION_HEADER } from '../correlation.js'
import { toCredregError } from '../error-handler.js'
import { ErrorSchema, WatchQuerySchema } from '../schemas.js'
import { SseStream } from '../sse.js'

/** Registers the watch route; `streams` holds the open streams, so a closing server can end them. */
export function watchRoutes (app: HttpApp, ctx: HttpContext, streams: Set<SseStream>): void {
  app.get('/v1/watch', {
    exposeHeadRoute: false,
    schema: { querystring: WatchQuerySchema, response: { '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request, reply) => {
    const prefix = request.query.prefix ?? ''
    assertPrefix(prefix)
    const since = resumeFrom(request.headers['last-event-id']) ?? request.query.since
    const abort = new AbortController()
    const changes = ctx.node.watch(prefix, { ...(since !== undefined ? { since } : {}), signal: abort.signal })
    reply.hijack()
    const stream = new SseStream(reply.raw, { [CORRELATION_HEADER]: request.id }, ctx.sseHeartbeatMs)
    reply.raw.once('close', () => abort.abort())
    streams.add(stream)
    ctx.metrics.watchers(1)
    request.log.debug({ prefix, since }, 'watch opened')
    try {
      for await (const change of changes) {
        await stream.send(change.op === 'resync' ? undefined : change.seq, change.op, change)
        if (stream.closed) break
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const error = toCredregError(err)
        request.log.warn({ err }, 'watch failed')
        await stream.send(undefined, 'error', error.toJSON())
      }
    } finally {
      abort.abort()
      streams.delete(stream)
      ctx.metrics.watchers(-1)
      stream.end()
      request.log.debug({ prefix }, 'watch closed')
    }
  })
}

/** The sequence a `Last-Event-ID` header resumes after. */
function resumeFrom (header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '') return undefined
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) {
    throw new CredregError('BAD_REQUEST', `Last-Event-ID must be a log sequence, got ${JSON.stringify(header)}`)
  }
  return Number(header.trim())
}
