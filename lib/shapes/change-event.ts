/**
 * A change pushed to watchers (a node's `watch`, the `data` of an SSE event).
 */
import { Type, type Static } from 'typebox'
import { ChangesetPositionSchema } from './changeset.js'
import { EntityMetaSchema, WriteOpSchema } from './entity.js'
import { JsonObjectSchema, PatchOperationSchema } from './json.js'
import { SeqSchema, VersionSchema } from './numbers.js'

/** A change pushed to watchers, in log order. */
export const ChangeEventSchema = Type.Object({
  /** Log sequence of the change; resume a watch with `since: seq`. */
  seq: SeqSchema,
  key: Type.String(),
  version: VersionSchema,
  /**
   * The version this replica held before (0 when none). `prevVersion !==
   * version - 1` means versions in between were never seen here: the jump is
   * explicit, never silent.
   */
  prevVersion: VersionSchema,
  /**
   * `resync` carries the current state of a key whose changes since the
   * watcher's position are no longer retained locally.
   */
  op: Type.Union([WriteOpSchema, Type.Literal('resync')]),
  /** The new value; absent for a delete (and for a resync of a deleted key). */
  value: Type.Optional(JsonObjectSchema),
  /** RFC 6902 operations from the previous value to this one. */
  patch: Type.Array(PatchOperationSchema),
  meta: EntityMetaSchema,
  /** For `resync`: whether the key currently exists. */
  deleted: Type.Optional(Type.Boolean()),
  /**
   * Set when a changeset made this change: its events come one per key,
   * consecutive, with the same `seq`. A consumer that acts once per changeset
   * waits for `index === size - 1`; resuming with `since` a changeset's `seq`
   * skips all of it, so a consumer stopped inside one resumes from `seq - 1`
   * (docs/watch.md).
   */
  changeset: Type.Optional(ChangesetPositionSchema)
})

/** A change pushed to watchers, in log order. */
export type ChangeEvent = Static<typeof ChangeEventSchema>
