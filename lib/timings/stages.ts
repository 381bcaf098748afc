/**
 * The stages a write and a record's propagation are timed in, and the hook a
 * node reports its own stages to. The facility is optional: a node opened
 * without {@link TimingHook} takes no mark at all.
 */

/** A key's write through the daemon, in order; each stage ends where the next begins. */
export const WRITE_STAGES = ['parsed', 'checked', 'sealed', 'published', 'applied', 'answered'] as const

/** A stage of a write (see the README's metrics section for where each begins and ends). */
export type WriteStage = typeof WRITE_STAGES[number]

/** The stages the node itself times; `parsed` and `answered` belong to the HTTP layer. */
export type NodeWriteStage = Exclude<WriteStage, 'parsed' | 'answered'>

/** A record's way from the log to a watcher of this replica, in order. */
export const PROPAGATION_STAGES = ['delivered', 'applied', 'event-sent'] as const

/** A stage of a record's propagation. */
export type PropagationStage = typeof PROPAGATION_STAGES[number]

/** The propagation stages the node itself times; `event-sent` belongs to the watch stream. */
export type NodePropagationStage = Exclude<PropagationStage, 'event-sent'>

/**
 * Receives the stages a node times (`NodeOptions.timings`), each as a
 * duration in seconds, synchronously on the write or apply path: it must
 * return at once and never throw.
 *
 * - `write`: once per stage of each key's write that succeeded (`checked`:
 *   write start to condition met on the replica, with any refresh after a
 *   conflict; `sealed`: record built, sealed, signed and encoded;
 *   `published`: append sent to the log's acknowledgement; `applied`: the
 *   acknowledgement to the local replica having applied it).
 * - `propagation`: `delivered` once per record read (from the shared log's
 *   own time of it, or the writer's `updatedAt` when the log keeps none, to
 *   the start of its apply: delivery and the wait behind earlier batches,
 *   with any clock difference between hosts, never below 0); `applied` once
 *   per apply batch that applied changes (apply start to its LevelDB batch
 *   written).
 */
export interface TimingHook {
  write: (stage: NodeWriteStage, seconds: number) => void
  propagation: (stage: NodePropagationStage, seconds: number) => void
}
