/**
 * Authentication of what travels without a sealed value to carry it: delete
 * records (a put or patch is authenticated by its value's seal, lib/seal.ts),
 * transaction records, the stream identity record and membership records
 * (heartbeats). Each kind of message has its own subkey, derived from the
 * namespace data key with HKDF-SHA256, so a tag made for one kind (a
 * heartbeat) is never valid for another (a record), and the data key
 * itself keys nothing but the values of schema 1 records (lib/seal.ts seals
 * newer ones under a subkey of its own).
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/** What a tag authenticates; each purpose has its own subkey. */
export type TagPurpose = 'record' | 'transaction' | 'identity' | 'heartbeat'

const PURPOSES: readonly TagPurpose[] = ['record', 'transaction', 'identity', 'heartbeat']
const SUBKEY_BYTES = 32
// A SHA-256 HMAC in base64url, unpadded.
const TAG_CHARS = 43
const SALT = Buffer.from('credreg authenticator v1')

/** The parts a tag covers, in a fixed order: strings and integers only. */
export type TagParts = ReadonlyArray<string | number>

/** The key id of a data key: the first 16 hex digits of a SHA-256 under a fixed label. */
export function keyId (dataKey: Uint8Array): string {
  return createHash('sha256').update('credreg key id\0').update(dataKey).digest('hex').slice(0, 16)
}

/** Makes and checks HMAC-SHA256 tags under subkeys of one data key. */
export class Authenticator {
  /** The id of the data key the subkeys come from (the same id sealed values carry). */
  readonly kid: string
  readonly #keys: Map<TagPurpose, Buffer>

  constructor (dataKey: Uint8Array) {
    this.kid = keyId(dataKey)
    this.#keys = new Map(PURPOSES.map(purpose => [purpose, Buffer.from(hkdfSync('sha256', dataKey, SALT, `credreg/${purpose}`, SUBKEY_BYTES))]))
  }

  /** The base64url tag of `parts` for `purpose`. */
  tag (purpose: TagPurpose, parts: TagParts): string {
    return this.#mac(purpose, parts)
  }

  /**
   * Whether `tag` is the tag of `parts` for `purpose`. Only the canonical
   * spelling counts (base64url decoding would pass over stray characters);
   * anything else is `false`.
   */
  verify (purpose: TagPurpose, parts: TagParts, tag: unknown): boolean {
    if (typeof tag !== 'string' || tag.length !== TAG_CHARS) return false
    const given = Buffer.from(tag)
    const expected = Buffer.from(this.#mac(purpose, parts))
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  #mac (purpose: TagPurpose, parts: TagParts): string {
    // JSON of an array of strings and numbers is unambiguous: no two part lists encode alike.
    return createHmac('sha256', this.#keys.get(purpose) as Buffer).update(JSON.stringify(parts)).digest('base64url')
  }
}
