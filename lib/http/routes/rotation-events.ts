/**
 * `GET /v1/rotations/events`: the rotation events the local replica applies
 * (`staged`, `acked`, `released`, `aborted`) as server-sent events, each
 * `event: rotation` with the event as data, in log order, live only: the
 * stream starts when it is opened and replays nothing, so its events carry
 * no `id` and a reconnect resumes nothing. A client that was disconnected
 * reads `GET /v1/rotations/{id}`, the durable view, and watches again.
 *
 * A client that does not keep up gets a last `closed` event
 * (`{ code: 'WATCH_OVERFLOW', message, reason }`) and the stream ends; beyond
 * the node's cap of rotation watchers the route answers 503 `UNAVAILABLE`
 * with `Retry-After` at once.
 */
import { CredregError, isCredregError } from '../../errors.js'
import type { RotationEvent } from '../../types.js'
import type { HttpApp, HttpContext } from '../context.js'
import { CORRELATION_HEADER } from '../correlation.js'
import { toCredregError } from '../error-handler.js'
import { ErrorSchema } from '../schemas.js'
import { SSE_RETRY_MS, SSE_STALL_HEARTBEATS, SseStream } from '../sse.js'

/** Registers the rotation event stream; `streams` holds the open streams, so a closing server can end them. */
export function rotationEventRoutes (app: HttpApp, ctx: HttpContext, streams: Set<SseStream>): void {
  app.get('/v1/rotations/events', {
    exposeHeadRoute: false,
    schema: { response: { '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request, reply) => {
    const abort = new AbortController()
    let events: AsyncIterableIterator<RotationEvent>
    try {
      events = ctx.node.watchRotations({ signal: abort.signal })
    } catch (err) {
      if (isCredregError(err, 'UNAVAILABLE')) reply.header('retry-after', String(Math.ceil(SSE_RETRY_MS / 1000)))
      throw err
    }
    reply.hijack()
    const stream = new SseStream(reply.raw, { [CORRELATION_HEADER]: request.id }, ctx.sseHeartbeatMs)
    reply.raw.once('close', () => abort.abort())
    streams.add(stream)
    request.log.debug('rotation events opened')
    const overflow = (reason: 'overflow' | 'stalled', error: CredregError): void => {
      request.log.info({ reason }, 'rotation events closed: the client does not keep up')
      ctx.metrics.watchOverflow(reason)
      stream.finish('closed', { ...error.toJSON(), reason })
    }
    try {
      for await (const event of events) {
        const sent = await stream.send(undefined, 'rotation', event)
        if (sent === 'closed') break
        if (sent === 'stalled') {
          overflow('stalled', new CredregError('WATCH_OVERFLOW', `the client took nothing for ${ctx.sseHeartbeatMs * SSE_STALL_HEARTBEATS} ms: read the rotations and watch again`))
          break
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const error = toCredregError(err)
        if (error.code === 'WATCH_OVERFLOW') {
          overflow('overflow', error)
        } else {
          request.log.warn({ err }, 'rotation events failed')
          await stream.send(undefined, 'error', error.toJSON())
        }
      }
    } finally {
      abort.abort()
      streams.delete(stream)
      stream.end()
      request.log.debug('rotation events closed')
    }
  })
}
