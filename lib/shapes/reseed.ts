/**
 * What a reseed of the change log did.
 */
import { Type, type Static } from 'typebox'
import { CountSchema, SeqSchema } from './numbers.js'

/** What a reseed did (`POST /v1/admin/reseed` → 200). */
export const ReseedResultSchema = Type.Object({
  /** The identity of the reseeded log, which this replica now follows. */
  identity: Type.String(),
  /** The identity this replica was built from, which the new log continues. */
  previous: Type.String(),
  /** Keys this replica compared with the new log. */
  keys: CountSchema,
  /** Versions this replica appended to it (its own newer ones). */
  versions: CountSchema,
  /** Writes resume once the replica has re-read the new log up to this sequence. */
  rebaseUntil: SeqSchema
})

/** What a node's `reseed` did. */
export type ReseedResult = Static<typeof ReseedResultSchema>
