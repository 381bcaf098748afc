/**
 * Where the daemon's time goes (`GET /v1/timings`): per stage of a write and
 * of a record's propagation, how many samples and their p50 and p99.
 */
import { Type, type Static } from 'typebox'
import { CountSchema } from './numbers.js'

/** One stage's count and percentiles. */
export const StageSummarySchema = Type.Object({
  stage: Type.String(),
  /** Samples since the daemon started. */
  count: CountSchema,
  /** Median over the latest `window` samples, in milliseconds (absent before the first sample). */
  p50Ms: Type.Optional(Type.Number({ minimum: 0 })),
  /** 99th percentile over the latest `window` samples, in milliseconds. */
  p99Ms: Type.Optional(Type.Number({ minimum: 0 }))
})

/** One stage's count and percentiles. */
export type StageSummary = Static<typeof StageSummarySchema>

/** What `GET /v1/timings` reports. */
export const TimingsSchema = Type.Object({
  /** How many of each stage's latest samples the percentiles are taken over. */
  window: CountSchema,
  /** A key's write, in order: parsed, checked, sealed, published, applied, answered. */
  write: Type.Array(StageSummarySchema),
  /** A record's propagation, in order: delivered, applied, event-sent. */
  propagation: Type.Array(StageSummarySchema)
})

/** What `GET /v1/timings` reports. */
export type Timings = Static<typeof TimingsSchema>
