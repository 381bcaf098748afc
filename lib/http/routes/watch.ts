/**
 * `GET /v1/watch?prefix=&since=`: change events as server-sent events. Each
 * event's `id` is its log sequence and its `event` the change's op (or
 * `resync`); `Last-Event-ID` resumes exactly like `since`.
 *
 * A `resync` event carries no `id`: its seq is its key's latest, possibly
 * ahead of changes still to come, so it must not move a client's resume point.
 * Nor does a change of a changeset but its last: the changes of a changeset
 * share one sequence, and resuming from it would skip the rest, so a stream
 * cut in the middle of one resumes from before it (and gets all of it again).
 *
 * A watcher that does not keep up (its queue went over its limit, or its
 * socket took nothing for the stall time) gets a last `closed` event,
 * `{ code: 'WATCH_OVERFLOW', message, reason, lastSeq }`, and the stream ends;
 * the client resumes with `Last-Event-ID`. Beyond the node's watcher or
 * replay cap the route answers 503 `UNAVAILABLE` with `Retry-After` at once.
 */
import { CredregError, isCredregError } from '../../errors.js'
import { assertPrefix } from '../../key.js'
import type { ChangeEvent } from '../../types.js'
import type { HttpApp, HttpContext } from '../context.js'
import { CORRELATION_HEADER } from '../correlation.js'
import { toCredregError } from '../error-handler.js'
import { ErrorSchema, WatchQuerySchema } from '../schemas.js'
import { SSE_RETRY_MS, SSE_STALL_HEARTBEATS, SseStream } from '../sse.js'

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
    let changes: AsyncIterableIterator<ChangeEvent>
    try {
      changes = ctx.node.watch(prefix, { ...(since !== undefined ? { since } : {}), signal: abort.signal })
    } catch (err) {
      if (isCredregError(err, 'UNAVAILABLE')) reply.header('retry-after', String(Math.ceil(SSE_RETRY_MS / 1000)))
      throw err
    }
    reply.hijack()
    const stream = new SseStream(reply.raw, { [CORRELATION_HEADER]: request.id }, ctx.sseHeartbeatMs)
    reply.raw.once('close', () => abort.abort())
    streams.add(stream)
    ctx.metrics.watchers(1)
    request.log.debug({ prefix, since }, 'watch opened')
    let lastSeq = since
    const overflow = (reason: 'overflow' | 'stalled', error: CredregError): void => {
      request.log.info({ prefix, reason, lastSeq }, 'watch closed: the client does not keep up')
      ctx.metrics.watchOverflow(reason)
      stream.finish('closed', { ...error.toJSON(), reason, ...(lastSeq !== undefined ? { lastSeq } : {}) })
    }
    try {
      for await (const change of changes) {
        const id = change.op === 'resync' || !lastOfItsChangeset(change) ? undefined : change.seq
        const sent = await stream.send(id, change.op, change)
        if (sent === 'closed') break
        if (id !== undefined) lastSeq = id
        if (sent === 'stalled') {
          overflow('stalled', new CredregError('WATCH_OVERFLOW', `the client took nothing for ${ctx.sseHeartbeatMs * SSE_STALL_HEARTBEATS} ms: resume from the last event id`))
          break
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const error = toCredregError(err)
        if (error.code === 'WATCH_OVERFLOW') {
          overflow('overflow', error)
        } else {
          request.log.warn({ err }, 'watch failed')
          await stream.send(undefined, 'error', error.toJSON())
        }
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

/** Whether `change` ends its changeset (a change of its own always does). */
function lastOfItsChangeset (change: ChangeEvent): boolean {
  return change.changeset === undefined || change.changeset.index === change.changeset.size - 1
}

/** The sequence a `Last-Event-ID` header resumes after. */
function resumeFrom (header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '') return undefined
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) {
    throw new CredregError('BAD_REQUEST', `Last-Event-ID must be a log sequence, got ${JSON.stringify(header)}`)
  }
  return Number(header.trim())
}
