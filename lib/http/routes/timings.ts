/**
 * `GET /v1/timings`: where this daemon's time goes, per stage of a key's
 * write and of a record's propagation (count since start, p50 and p99 over
 * the latest samples). The same samples feed the stage histograms of `/metrics`.
 */
import type { StageTimings } from '../../timings/stage-timings.js'
import type { HttpApp } from '../context.js'
import { ErrorSchema, TimingsSchema } from '../schemas.js'

/** Registers the timings route. */
export function timingsRoutes (app: HttpApp, timings: StageTimings): void {
  app.get('/v1/timings', { schema: { response: { 200: TimingsSchema, '5xx': ErrorSchema } } }, async () => timings.summary())
}
