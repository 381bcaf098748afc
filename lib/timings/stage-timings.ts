/**
 * The daemon's stage timings: a {@link TimingHook} for its node, the HTTP
 * layer's own stages, and the time each record was committed so a watch
 * stream can time its `event-sent`. Every sample goes to a prom-client
 * histogram (`credreg_write_stage_seconds`, `credreg_propagation_stage_seconds`)
 * and to a reservoir of the latest samples for `GET /v1/timings`.
 */
import { Histogram, type Registry } from 'prom-client'
import type { AppliedChange } from '../replica/replica.js'
import type { StageSummary, Timings } from '../shapes/timings.js'
import { Reservoir } from './reservoir.js'
import { PROPAGATION_STAGES, WRITE_STAGES, type PropagationStage, type TimingHook, type WriteStage } from './stages.js'

/** Latest samples kept per stage for its percentiles. */
export const RESERVOIR_SIZE = 2048
// Records whose commit time is kept for their watch events: far more than a watcher ever lags
// behind while still being served live (its queue budget closes it first).
const COMMITS_KEPT = 4096
// Stages take microseconds (a seal) to seconds (a publish to a struggling log).
const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** One stage: its histogram child and its latest samples. */
interface Stage { histogram: { observe: (seconds: number) => void }, samples: Reservoir }

type Stages<S extends string> = Record<S, Stage>

export class StageTimings implements TimingHook {
  readonly #writeHistogram = new Histogram({
    name: 'credreg_write_stage_seconds',
    help: 'Stages of the key writes that succeeded: parsed (request received to handler), checked (condition met on the replica), sealed (record built, sealed, signed), ' +
      'published (append to the log\'s acknowledgement), applied (acknowledgement to local apply), answered (result to response sent).',
    labelNames: ['stage'] as const,
    buckets: BUCKETS,
    registers: []
  })

  readonly #propagationHistogram = new Histogram({
    name: 'credreg_propagation_stage_seconds',
    help: 'Stages of a record\'s way into this replica and out to watchers: delivered (stored by the log, or written standalone, to apply start, per record), ' +
      'applied (apply start to batch committed, per batch), ' +
      'event-sent (committed to sent on a watch stream, per event and watcher).',
    labelNames: ['stage'] as const,
    buckets: BUCKETS,
    registers: []
  })

  readonly #write: Stages<WriteStage>
  readonly #propagation: Stages<PropagationStage>
  readonly #committed = new Map<number, number>()

  constructor () {
    this.#write = stages(WRITE_STAGES, this.#writeHistogram)
    this.#propagation = stages(PROPAGATION_STAGES, this.#propagationHistogram)
  }

  /** Adds both histograms to `registry` (the daemon's `/metrics`). */
  register (registry: Registry): void {
    registry.registerMetric(this.#writeHistogram)
    registry.registerMetric(this.#propagationHistogram)
  }

  write (stage: WriteStage, seconds: number): void {
    observe(this.#write[stage], seconds)
  }

  propagation (stage: PropagationStage, seconds: number): void {
    observe(this.#propagation[stage], seconds)
  }

  /** Notes that `changes` were committed now (call as the replica emits them). */
  committed (changes: AppliedChange[]): void {
    const now = performance.now()
    for (const { stored } of changes) this.#committed.set(stored.seq, now)
    for (const seq of this.#committed.keys()) {
      if (this.#committed.size <= COMMITS_KEPT) break
      this.#committed.delete(seq)
    }
  }

  /** A watch stream sent the change at `seq`: times it from its commit (not for a replayed change committed long ago). */
  eventSent (seq: number): void {
    const at = this.#committed.get(seq)
    if (at !== undefined) this.propagation('event-sent', (performance.now() - at) / 1000)
  }

  /** Count, p50 and p99 of every stage (percentiles over the latest {@link RESERVOIR_SIZE} samples). */
  summary (): Timings {
    return { window: RESERVOIR_SIZE, write: summarise(this.#write), propagation: summarise(this.#propagation) }
  }
}

function stages<S extends string> (names: readonly S[], histogram: Histogram<'stage'>): Stages<S> {
  const all: Partial<Stages<S>> = {}
  for (const stage of names) {
    // Every stage shows in /metrics from the start, at 0, rather than appearing with its first sample.
    histogram.zero({ stage })
    all[stage] = { histogram: histogram.labels({ stage }), samples: new Reservoir(RESERVOIR_SIZE) }
  }
  return all as Stages<S>
}

function observe (stage: Stage, seconds: number): void {
  stage.histogram.observe(seconds)
  stage.samples.add(seconds)
}

function summarise<S extends string> (all: Stages<S>): StageSummary[] {
  return Object.entries<Stage>(all).map(([stage, { samples }]) => ({
    stage,
    count: samples.count,
    ...(samples.count > 0 ? { p50Ms: ms(samples.quantile(0.5)), p99Ms: ms(samples.quantile(0.99)) } : {})
  }))
}

function ms (seconds: number | undefined): number {
  return Math.round((seconds ?? 0) * 1e6) / 1e3
}
