/**
 * The identity record of a JetStream change log: which history the stream
 * holds, and which earlier histories it continues. A stream restored from a
 * replica after its store was lost (a reseed) names the identity it replaces,
 * so every replica built from that one can adopt it instead of refusing it.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'

/** How many earlier identities a record names: enough for a replica offline across several reseeds. */
export const MAX_LINEAGE = 16

/** What the identity record says. */
export interface IdentityRecord {
  /** Random, fixed when the history starts. */
  id: string
  /** The identities this history continues, newest first (empty for a history started from nothing). */
  lineage: string[]
  /**
   * The first sequence of a reseeded history: above every sequence of the one
   * it continues, so sequences keep growing across a reseed (1 when absent).
   */
  base?: number
}

const IdentitySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  lineage: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: MAX_LINEAGE }),
  base: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }))
}, { additionalProperties: false })

const checkIdentity = Compile(IdentitySchema)

export function encodeIdentity (record: IdentityRecord): string {
  return JSON.stringify({ id: record.id, lineage: record.lineage.slice(0, MAX_LINEAGE), ...(record.base !== undefined ? { base: record.base } : {}) })
}

/**
 * Reads an identity record. Streams made before lineage existed hold the bare
 * id; anything else unreadable is `undefined` (the caller treats the stream as unknown).
 */
export function decodeIdentity (text: string): IdentityRecord | undefined {
  if (!text.startsWith('{')) return /^[A-Za-z0-9-]{1,128}$/.test(text) ? { id: text, lineage: [] } : undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  return checkIdentity.Check(parsed) ? parsed : undefined
}
