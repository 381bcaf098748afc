/**
 * The retained versions of a key, each with the patch from the one before.
 */
import { Type, type Static } from 'typebox'
import { ChangesetPositionSchema } from './changeset.js'
import { EntityMetaSchema, WriteOpSchema } from './entity.js'
import { JsonObjectSchema, PatchOperationSchema } from './json.js'
import { SeqSchema, VersionSchema } from './numbers.js'

/** One retained version of a key, oldest first in a history. */
export const HistoryEntrySchema = Type.Object({
  version: VersionSchema,
  /** Position of the record in the change log. */
  seq: SeqSchema,
  op: WriteOpSchema,
  meta: EntityMetaSchema,
  /** Absent for a delete, and for a value this host cannot open (see `unreadable`). */
  value: Type.Optional(JsonObjectSchema),
  /**
   * Why this host shows no value for this version although it had one: it
   * is sealed under a key this host does not hold (a read scope it does not
   * read, or a key retired since). The version itself is kept, and counted.
   */
  unreadable: Type.Optional(Type.String()),
  /**
   * RFC 6902 operations from the previous retained version to this one
   * (from `{}` for the first retained version or after a delete).
   */
  patch: Type.Array(PatchOperationSchema),
  /** Set when a changeset wrote this version: which one, and this change's place in it. */
  changeset: Type.Optional(ChangesetPositionSchema)
})

/** One entry of a node's `history`, newest last. */
export type HistoryEntry = Static<typeof HistoryEntrySchema>

/** A {@link HistoryEntry} without its value, as the HTTP API reports it. */
export const ClientHistoryEntrySchema = Type.Omit(HistoryEntrySchema, ['value'])

/** One retained version as `GET /v1/history/{key}` reports it: no value (read it with `get(key, { version })`). */
export type ClientHistoryEntry = Static<typeof ClientHistoryEntrySchema>

/** `GET /v1/history/{key}` → 200, oldest version first. */
export const HistoryBodySchema = Type.Object({
  key: Type.String(),
  versions: Type.Array(ClientHistoryEntrySchema)
})

/** The body of `GET /v1/history/{key}`. */
export type HistoryBody = Static<typeof HistoryBodySchema>
