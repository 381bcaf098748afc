/**
 * The identity record of a JetStream change log, as data: its shape, its tag
 * and its encoding (stream-identity.ts reads and writes it on the stream).
 * It says which history the stream holds, and which earlier histories it
 * continues. A stream restored from a replica after its store was lost (a
 * reseed) names the identity it replaces, so every replica built from that
 * one can adopt it instead of refusing it.
 *
 * The record is tagged under the `identity` subkey of the namespace key, bound
 * to the stream's name: anyone may publish on the identity subject, but only a
 * holder of the key writes an identity that counts.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator } from '../authenticator.js'

/** How many earlier identities a record names: enough for a replica offline across several reseeds. */
export const MAX_LINEAGE = 16

const IdentityRecordSchema = Type.Object({
  /** Random, fixed when the history starts. */
  id: Type.String({ minLength: 1, maxLength: 128 }),
  /** The identities this history continues, newest first (empty for a history started from nothing). */
  lineage: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: MAX_LINEAGE }),
  /**
   * The first sequence of a reseeded history: above every sequence of the one
   * it continues, so sequences keep growing across a reseed (1 when absent).
   */
  base: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  /**
   * Set on a history started by a release that tags every record: untagged
   * (schema 1) records never count in it, from its first sequence on. A
   * tagged copy of an older stream's identity does not carry it.
   */
  authenticated: Type.Optional(Type.Literal(true))
}, { additionalProperties: false })

/** What the identity record says. */
export type IdentityRecord = Static<typeof IdentityRecordSchema>

/** An identity record as read: `verified` when its tag holds, `false` for one written before tags existed. */
export interface ReadIdentity { record: IdentityRecord, verified: boolean }

// As published: the record and its tag (absent on streams made before tags).
const IdentitySchema = Type.Object({
  ...IdentityRecordSchema.properties,
  tag: Type.Optional(Type.String({ maxLength: 64 }))
}, { additionalProperties: false })

const checkIdentity = Compile(IdentitySchema)

function tagParts (stream: string, record: IdentityRecord): Array<string | number> {
  return [stream, record.id, record.base ?? 1, record.authenticated === true ? 1 : 0, ...record.lineage]
}

/** The tagged identity record of `stream`, as published. */
export function encodeIdentity (stream: string, record: IdentityRecord, authenticator: Authenticator): string {
  const bounded: IdentityRecord = {
    id: record.id,
    lineage: record.lineage.slice(0, MAX_LINEAGE),
    ...(record.base !== undefined ? { base: record.base } : {}),
    ...(record.authenticated === true ? { authenticated: true } : {})
  }
  return JSON.stringify({ ...bounded, tag: authenticator.tag('identity', tagParts(stream, bounded)) })
}

/**
 * Reads an identity record of `stream`. A record with a tag that does not
 * hold is `undefined` (forged, or of another key); one without a tag (streams
 * made by earlier releases, a bare id before lineage existed) is read as
 * unverified; anything else unreadable is `undefined`.
 */
export function decodeIdentity (stream: string, text: string, authenticator: Authenticator): ReadIdentity | undefined {
  if (!text.startsWith('{')) return /^[A-Za-z0-9-]{1,128}$/.test(text) ? { record: { id: text, lineage: [] }, verified: false } : undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!checkIdentity.Check(parsed)) return undefined
  const { tag, ...record } = parsed
  if (tag === undefined) return { record, verified: false }
  return authenticator.verify('identity', tagParts(stream, record), tag) ? { record, verified: true } : undefined
}
