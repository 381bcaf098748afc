/**
 * Prometheus metrics of a daemon (prom-client), on a registry of its own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { isCredregError } from '../errors.js'
import type { WatchLoad } from '../replica/watchers.js'
import type { NodeStatus } from '../types.js'

/** How a write ended, as counted by `credreg_writes_total`. */
export type WriteResultLabel = 'ok' | 'conflict' | 'unavailable' | 'rejected' | 'error'

/** The label of a write that failed with `err` (a refused changeset counts by its code, as a single write would). */
export function writeResultLabel (err: unknown): WriteResultLabel {
  if (!isCredregError(err)) return 'error'
  if (err.code === 'VERSION_CONFLICT') return 'conflict'
  if (err.retryable || err.code === 'LOG_DIVERGED' || err.code === 'CLOSED') return 'unavailable'
  return err.status < 500 ? 'rejected' : 'error'
}

/** The daemon's metrics; `/metrics` calls {@link Metrics.render}. */
export class Metrics {
  readonly registry = new Registry()
  readonly #writes = new Counter({
    name: 'credreg_writes_total',
    help: 'Writes (put, patch, delete, changeset: one per changeset, whatever its keys) by operation and result: ok, conflict, unavailable, rejected (4xx) or error.',
    labelNames: ['op', 'result'] as const,
    registers: [this.registry]
  })

  readonly #writeSeconds = new Histogram({
    name: 'credreg_write_duration_seconds',
    help: 'Time from receiving a write to answering it, including the local apply.',
    labelNames: ['op'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry]
  })

  readonly #lagRecords = new Gauge({ name: 'credreg_apply_lag_records', help: 'Records in the log not yet applied to the local replica.', registers: [this.registry] })
  readonly #lagSeconds = new Gauge({
    name: 'credreg_apply_lag_seconds',
    help: 'Age of the last applied record when it was applied (0 when caught up).',
    registers: [this.registry]
  })

  readonly #appliedSeq = new Gauge({ name: 'credreg_applied_seq', help: 'Last log sequence applied to the local replica.', registers: [this.registry] })
  readonly #rejected = new Gauge({
    name: 'credreg_rejected_records',
    help: 'Records refused by the apply loop since start, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  readonly #watchers = new Gauge({ name: 'credreg_watchers', help: 'Open watch (SSE) streams.', registers: [this.registry] })
  readonly #watchQueued = new Gauge({
    name: 'credreg_watch_queued_bytes',
    help: 'Bytes of changes queued for watchers and not taken yet (each watcher is closed beyond its budget).',
    registers: [this.registry]
  })

  readonly #watchOverflows = new Counter({
    name: 'credreg_watch_overflows_total',
    help: 'Watch streams closed because the client did not keep up, by reason (overflow: queue limit; stalled: socket took nothing).',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  readonly #natsConnected = new Gauge({
    name: 'credreg_nats_connected',
    help: 'Whether the change log can take writes: 1 yes (NATS connected, or standalone), 0 no.',
    registers: [this.registry]
  })

  readonly #peerIgnored = new Counter({
    name: 'credreg_peer_messages_ignored_total',
    help: 'Membership records (kind heartbeat) ignored when the membership stream is read, by reason (malformed, version, forged, stale, table-full, oversized).',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry]
  })

  readonly #rotationsOpen = new Gauge({ name: 'credreg_rotations_open', help: 'Rotations staged and not yet released or aborted.', registers: [this.registry] })
  readonly #rotationAcks = new Counter({
    name: 'credreg_rotation_acks_total',
    help: 'Rotation acknowledgements applied by the local replica (from every host), by result: ok or failed.',
    labelNames: ['result'] as const,
    registers: [this.registry]
  })

  #lastApplyLagS = 0

  constructor () {
    collectDefaultMetrics({ register: this.registry })
  }

  /** Counts one write and its duration. */
  write (op: string, result: WriteResultLabel, seconds: number): void {
    this.#writes.inc({ op, result })
    this.#writeSeconds.observe({ op }, seconds)
  }

  /** Notes when the last change the replica applied was written (for the apply lag in seconds). */
  applied (updatedAt: string): void {
    const age = (Date.now() - Date.parse(updatedAt)) / 1000
    if (Number.isFinite(age)) this.#lastApplyLagS = Math.max(0, age)
  }

  /** Counts one ignored peer message. */
  peerMessageIgnored (kind: string, reason: string): void {
    this.#peerIgnored.inc({ kind, reason })
  }

  /** One more (+1) or one fewer (-1) open watch stream. */
  watchers (delta: 1 | -1): void {
    this.#watchers.inc(delta)
  }

  /** Counts one rotation acknowledgement applied. */
  rotationAck (ok: boolean): void {
    this.#rotationAcks.inc({ result: ok ? 'ok' : 'failed' })
  }

  /** One watch stream closed because its client did not keep up. */
  watchOverflow (reason: 'overflow' | 'stalled'): void {
    this.#watchOverflows.inc({ reason })
  }

  /** The Prometheus text exposition, with the gauges taken from `status`, `watch` and the count of open rotations. */
  async render (status: NodeStatus, watch?: WatchLoad, openRotations?: number): Promise<string> {
    if (watch !== undefined) this.#watchQueued.set(watch.queuedBytes)
    if (openRotations !== undefined) this.#rotationsOpen.set(openRotations)
    this.#lagRecords.set(status.lag)
    this.#lagSeconds.set(status.lag === 0 ? 0 : this.#lastApplyLagS)
    this.#appliedSeq.set(status.appliedSeq)
    this.#natsConnected.set(status.connected ? 1 : 0)
    for (const [reason, count] of Object.entries(status.rejected)) this.#rejected.set({ reason }, count)
    return await this.registry.metrics()
  }

  /** The content type of {@link Metrics.render}'s output. */
  get contentType (): string {
    return this.registry.contentType
  }
}
