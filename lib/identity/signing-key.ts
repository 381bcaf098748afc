/**
 * Ed25519 signing keys: a host's identity (made at first start in its data
 * directory) and the admin key that signs the policy (kept off the fleet).
 * node:crypto does the cryptography; this file only names keys and files.
 *
 * A public key travels as the base64url of its 32 raw bytes (43 characters),
 * a signature as the base64url of its 64 bytes (86 characters).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { CredregError } from '../errors.js'
import { readSecretFile, writeNewSecretFile } from '../secret-file.js'

/** The shape of a public key as records and the policy carry it. */
export const PUBLIC_KEY_PATTERN = '^[A-Za-z0-9_-]{43}$'
/** The shape of a signature as records carry it. */
export const SIGNATURE_PATTERN = '^[A-Za-z0-9_-]{86}$'

/** A private Ed25519 key and its public half. */
export class SigningKey {
  /** The public key: base64url of its 32 raw bytes. */
  readonly publicKey: string
  readonly #private: KeyObject

  private constructor (key: KeyObject) {
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key')
    this.#private = key
    this.publicKey = createPublicKey(key).export({ format: 'jwk' }).x as string
  }

  /** A new random key. */
  static generate (): SigningKey {
    return new SigningKey(generateKeyPairSync('ed25519').privateKey)
  }

  /** The key of a PKCS#8 PEM file (mode 0600, checked as every secrets file is). */
  static async fromFile (path: string, what = 'signing key file'): Promise<SigningKey> {
    const pem = await readSecretFile(path, what)
    let key: KeyObject
    try {
      key = createPrivateKey({ key: pem, format: 'pem' })
    } catch {
      throw new CredregError('INVALID_CONFIG', `${what} ${path} is not a PEM private key (make one with credreg admin keygen)`)
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new CredregError('INVALID_CONFIG', `${what} ${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`)
    }
    return new SigningKey(key)
  }

  /** The base64url signature of `message`. */
  sign (message: Uint8Array): string {
    return sign(null, message, this.#private).toString('base64url')
  }

  /** Writes the key to `path` as PKCS#8 PEM, mode 0600; never overwrites. */
  async writeFile (path: string): Promise<void> {
    await writeNewSecretFile(path, this.#private.export({ type: 'pkcs8', format: 'pem' }))
  }
}

/**
 * The host key in `path`, made there on first use: the identity of a node
 * (whatever its node id says), kept with its replica.
 */
export async function loadOrCreateHostKey (path: string): Promise<SigningKey> {
  try {
    await SigningKey.generate().writeFile(path)
  } catch (err) {
    // Already there (the usual case), or made by another process in between: read it.
    if (!(err instanceof CredregError && /already exists/.test(err.message))) throw err
  }
  return await SigningKey.fromFile(path, 'host key file')
}
