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
 *
 * A scoped token without the rotations grant gets the events of the
 * rotations whose every staged key it may read, and no other.
 */
import type { CredregNode, RotationEvent } from '../../types.js'
import type { CallerScope } from '../caller-scope.js'
import type { HttpApp, HttpContext } from '../context.js'
import { ErrorSchema } from '../schemas.js'
import { serveFeed } from '../sse-feed.js'
import type { SseStream } from '../sse.js'

/** Registers the rotation event stream; `streams` holds the open streams, so a closing server can end them. */
export function rotationEventRoutes (app: HttpApp, ctx: HttpContext, streams: Set<SseStream>): void {
  app.get('/v1/rotations/events', {
    exposeHeadRoute: false,
    schema: { response: { '4xx': ErrorSchema, '5xx': ErrorSchema } }
  }, async (request, reply) => {
    await serveFeed<RotationEvent>(request, reply, ctx, streams, {
      open: signal => {
        const events = ctx.node.watchRotations({ signal })
        const scope = request.callerScope
        return scope.isFull ? events : visibleOnly(events, ctx.node, scope)
      },
      // Live only: nothing is replayed, so there is nothing to resume from.
      frame: () => ({ id: undefined, name: 'rotation' }),
      what: 'rotation events',
      resumeHint: 'read the rotations and watch again'
    })
  })
}

/** The events of the rotations `scope` may see, each rotation looked up once. */
async function * visibleOnly (events: AsyncIterableIterator<RotationEvent>, node: CredregNode, scope: CallerScope): AsyncIterableIterator<RotationEvent> {
  const seen = new Map<string, boolean>()
  try {
    for await (const event of events) {
      let visible = seen.get(event.rotation)
      if (visible === undefined) {
        const keys = await node.rotation(event.rotation).then(r => r.changes.map(change => change.key), () => undefined)
        visible = keys !== undefined && scope.canSeeRotation(keys)
        seen.set(event.rotation, visible)
      }
      if (visible) yield event
    }
  } finally {
    await events.return?.()
  }
}
