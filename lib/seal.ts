/**
 * Sealing of values with AES-256-GCM under the namespace data key.
 *
 * The namespace, key and version are the additional authenticated data, so a
 * sealed value cannot be replayed under another key, version or namespace;
 * for a record of schema 2, its op and meta too, so the value's tag
 * authenticates every field of the record that carries it.
 * The key id names the data key (for rotation) without revealing it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { keyId } from './authenticator.js'
import { CredregError } from './errors.js'

/** Length of a data key in bytes. */
export const DATA_KEY_BYTES = 32

const IV_BYTES = 12
const TAG_BYTES = 16
const VALUE_KEY_SALT = Buffer.from('credreg sealer v2')

/** A sealed value as it travels in a record. */
export interface Sealed {
  /** Key id: the first 16 hex digits of a SHA-256 of the data key. */
  kid: string
  /** base64 of the 12-byte nonce. */
  iv: string
  /** base64 of the ciphertext followed by the 16-byte GCM tag. */
  ct: string
}

/** What a sealed value is bound to. */
export interface SealContext {
  namespace: string
  key: string
  version: number
  /**
   * The rest of the record that carries the value (schema 2): its op and
   * meta are bound too, so the value's GCM tag authenticates the whole
   * record. Absent for values of schema 1 records.
   */
  record?: {
    op: string
    meta: { updatedAt: string, nodeId: string, correlationId: string }
    /**
     * The id of the transaction record (a changeset) that carries the value,
     * when it is one: a value sealed inside a changeset never opens as a
     * record of its own, so no part of a changeset can be lifted out of it.
     */
    transaction?: string
  }
}

/**
 * Seals and opens values under one data key. Values of schema 2 records are
 * sealed under an HKDF-SHA256 subkey of it (`credreg/value`), so the data key
 * itself keys nothing new; values of schema 1 records stay under the data key
 * they were sealed with.
 */
export class Sealer {
  readonly kid: string
  readonly #legacyKey: Buffer
  readonly #valueKey: Buffer

  constructor (dataKey: Uint8Array) {
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new CredregError('INVALID_CONFIG', `a data key must be exactly ${DATA_KEY_BYTES} bytes, got ${dataKey.length}`)
    }
    this.#legacyKey = Buffer.from(dataKey)
    this.#valueKey = Buffer.from(hkdfSync('sha256', dataKey, VALUE_KEY_SALT, 'credreg/value', DATA_KEY_BYTES))
    this.kid = keyId(this.#legacyKey)
  }

  #keyFor (context: SealContext): Buffer {
    return context.record === undefined ? this.#legacyKey : this.#valueKey
  }

  seal (plaintext: Uint8Array, context: SealContext): Sealed {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#keyFor(context), iv)
    cipher.setAAD(aad(context))
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    return { kid: this.kid, iv: iv.toString('base64'), ct: ct.toString('base64') }
  }

  /** The plaintext, or throws when the key id, the context or the ciphertext do not authenticate. */
  open (sealed: Sealed, context: SealContext): Buffer {
    if (sealed.kid !== this.kid) throw new Error(`sealed under key id ${sealed.kid}, this node has ${this.kid}`)
    const iv = Buffer.from(sealed.iv, 'base64')
    const data = Buffer.from(sealed.ct, 'base64')
    if (iv.length !== IV_BYTES || data.length < TAG_BYTES) throw new Error('malformed sealed value')
    const decipher = createDecipheriv('aes-256-gcm', this.#keyFor(context), iv)
    decipher.setAAD(aad(context))
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES))
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()])
  }
}

function aad ({ namespace, key, version, record }: SealContext): Buffer {
  if (record === undefined) return Buffer.from(`credreg/v1\0${namespace}\0${key}\0${version}`)
  const { op, meta, transaction } = record
  const bound = `${namespace}\0${key}\0${version}\0${op}\0${meta.updatedAt}\0${meta.nodeId}\0${meta.correlationId}`
  return Buffer.from(transaction === undefined ? `credreg/v2\0${bound}` : `credreg/v3\0${bound}\0${transaction}`)
}
