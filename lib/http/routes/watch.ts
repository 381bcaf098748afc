/**
 * `GET /v1/watch?prefix=&since=`: change events as server-sent events. An
 * event's `id` is its log sequence and its `event` the change's op (or
 * `resync`); `Last-Event-ID` resumes exactly like `since`.
 *
 * Only an event that ends what its sequence holds carries an `id`: a change of
 * its own, or the last change of a changeset. The changes of a changeset share
 * one sequence, so a client cut off inside one resumes from the last complete
 * sequence before it (an event without `id` leaves the client's last event id
 * as it was) and gets the whole changeset again, rather than skipping its rest.
 * A `resync` event carries no `id` either: its seq is its key's latest,
 * possibly ahead of changes still to come, so it must not move a client's
 * resume point.
 *
 * A watcher that does not keep up (its queue went over its limit, or its
 * socket took nothing for the stall time) gets a last `closed` event,
 * `{ code: 'WATCH_OVERFLOW', message, reason, lastSeq }`, and the stream ends;
 * the client resumes with `Last-Event-ID`. Beyond the node's watcher or
 * replay cap the route answers 503 `UNAVAILABLE` with `Retry-After` at once.
 */
import { CredregError } from '../../errors.js'
import { assertPrefix } from '../../key.js'
import type { ChangeEvent } from '../../types.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema, WatchQuerySchema } from '../schemas.js'
import { serveFeed } from '../sse-feed.js'
import type { SseStream } from '../sse.js'

/** Registers the watch route; `streams` holds the open streams, so a closing server can end them. */
export function watchRoutes (app: HttpApp, ctx: HttpContext, streams: Set<SseStream>): void {
  app.get('/v1/watch', {
    exposeHeadRoute: false,
    schema: { querystring: WatchQuerySchema, response: { '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request, reply) => {
    const prefix = request.query.prefix ?? ''
    assertPrefix(prefix)
    const since = resumeFrom(request.headers['last-event-id']) ?? request.query.since
    let lastSeq = since
    await serveFeed<ChangeEvent>(request, reply, ctx, streams, {
      open: signal => ctx.node.watch(prefix, { ...(since !== undefined ? { since } : {}), signal }),
      frame: change => ({ id: eventId(change), name: change.op }),
      sent: (id, change) => {
        if (id !== undefined) lastSeq = id
        ctx.timings?.eventSent(change.seq)
      },
      what: 'watch',
      fields: { prefix, since },
      resumeHint: 'resume from the last event id',
      closing: () => (lastSeq !== undefined ? { lastSeq } : {}),
      onOpen: () => ctx.metrics.watchers(1),
      onEnd: () => ctx.metrics.watchers(-1)
    })
  })
}

/** The SSE `id` of a change: its sequence when the change ends that sequence's changes, else none. */
function eventId (change: ChangeEvent): number | undefined {
  if (change.op === 'resync') return undefined
  const { changeset } = change
  return changeset === undefined || changeset.index === changeset.size - 1 ? change.seq : undefined
}

/** The sequence a `Last-Event-ID` header resumes after. */
function resumeFrom (header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '') return undefined
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) {
    throw new CredregError('BAD_REQUEST', `Last-Event-ID must be a log sequence, got ${JSON.stringify(header)}`)
  }
  return Number(header.trim())
}
