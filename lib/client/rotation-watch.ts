/**
 * The client side of `GET /v1/rotations/events`: an async iterator over the
 * SSE stream of rotation events. The stream is live only, so unlike a change
 * watch this one does not reconnect: a lost connection (or a daemon that
 * closes the stream) ends the iterator with `UNAVAILABLE`, since events may
 * have been missed; the caller reads the rotations it follows
 * (`client.rotation(id)`) and watches again.
 */
import { stoppable } from './stoppable.js'
import { CredregError } from '../errors.js'
import type { RotationEvent } from '../types.js'
import { errorFromResponse, errorFromTransport } from './error-codec.js'
import type { Http } from './http.js'
import { createSseParser, type SseEvent } from './sse-parser.js'

interface RotationWatchParams {
  http: Http
  signal: AbortSignal
  /** A connection silent for this long is taken as lost. */
  idleTimeoutMs: number
}

/** Rotation events as the daemon applies them, until `signal` aborts or the iterator returns. */
export function watchRotationEvents (params: RotationWatchParams): AsyncIterableIterator<RotationEvent> {
  return stoppable(params.signal, signal => follow({ ...params, signal }))
}

async function * follow ({ http, signal, idleTimeoutMs }: RotationWatchParams): AsyncGenerator<RotationEvent, void, undefined> {
  try {
    const res = await http.stream({ method: 'GET', path: '/v1/rotations/events', headers: { accept: 'text/event-stream' }, idleTimeoutMs, signal })
    const received: SseEvent[] = []
    const parser = createSseParser({ onEvent: (e) => received.push(e) })
    try {
      for await (const chunk of res.body) {
        parser.feed(chunk as Buffer)
        for (const e of received.splice(0)) {
          const event = toRotationEvent(e)
          if (event !== undefined) yield event
        }
      }
    } finally {
      res.body.destroy()
    }
  } catch (err) {
    if (signal.aborted) return
    throw errorFromTransport(err, http.target)
  }
  if (signal.aborted) return
  throw new CredregError('UNAVAILABLE', `credregd at ${http.target} ended the rotation event stream: events may have been missed, read the rotations and watch again`)
}

/** The rotation event an SSE event carries; an `error` or `closed` event throws its typed error. */
function toRotationEvent (e: SseEvent): RotationEvent | undefined {
  if (e.event === 'error') throw errorFromResponse({ status: 500, body: e.data })
  if (e.event === 'closed') throw errorFromResponse({ status: 503, body: e.data })
  if (e.event !== 'rotation') return undefined
  let event: RotationEvent
  try {
    event = JSON.parse(e.data) as RotationEvent
  } catch (err) {
    throw new CredregError('INTERNAL', 'the rotation event stream sent an event that is not JSON', { cause: err })
  }
  if (typeof event !== 'object' || event === null || typeof event.rotation !== 'string' || typeof event.seq !== 'number') {
    throw new CredregError('INTERNAL', 'the rotation event stream sent an event that is not a rotation event')
  }
  return event
}
