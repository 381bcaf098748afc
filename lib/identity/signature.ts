/**
 * Signatures over records. A record is signed over every field it has but
 * the signature itself, in one canonical spelling (keys sorted at every
 * level), so a field added to a record type later is covered without a list
 * to keep in step, and no two records share a signed message.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import type { SigningKey } from './signing-key.js'

/** A signature and the public key it verifies under, as a record carries it. */
export interface RecordSignature {
  /** The signer's public key (base64url, 43 characters). */
  pub: string
  /** base64url of the 64-byte Ed25519 signature. */
  sig: string
}

// Domain separation: a signed record is never a signed anything else.
const LABEL = 'credreg signed record v1\0'

/** The message a record's signature covers: every field but `sig`, keys sorted. */
export function signedMessage (record: object): Buffer {
  const { sig: _, ...fields } = record as { sig?: unknown }
  return Buffer.from(LABEL + canonicalJson(fields))
}

/** `record` with its signature by `key`. */
export function signRecord<R extends object> (record: R, key: SigningKey): R & { sig: RecordSignature } {
  const message = signedMessage(record)
  const sig = { pub: key.publicKey, sig: key.sign(message) }
  remember(sig, message)
  return { ...record, sig }
}

// What this process signed lately, by signature: a writer's own record comes back to its
// replica within milliseconds. A signature made here over exactly the message a record
// carries verifies, so the check is a comparison of messages instead of an Ed25519
// verification (the same answer, at a fraction of the cost).
const SIGNED_HERE_KEPT = 1024
const signedHere = new Map<string, { pub: string, message: Buffer }>()

function remember ({ pub, sig }: RecordSignature, message: Buffer): void {
  if (signedHere.size >= SIGNED_HERE_KEPT) signedHere.delete(signedHere.keys().next().value as string)
  signedHere.set(sig, { pub, message })
}

function signedHereOver (sig: RecordSignature, message: Buffer): boolean {
  const made = signedHere.get(sig.sig)
  return made !== undefined && made.pub === sig.pub && made.message.equals(message)
}

// Public keys recur (a fleet has few writers): each is parsed once.
const PUBLIC_KEYS_CACHED = 4096
const publicKeys = new Map<string, KeyObject | null>()

function publicKeyOf (pub: string): KeyObject | null {
  let key = publicKeys.get(pub)
  if (key === undefined) {
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub }, format: 'jwk' })
    } catch {
      key = null
    }
    if (publicKeys.size >= PUBLIC_KEYS_CACHED) publicKeys.delete(publicKeys.keys().next().value as string)
    publicKeys.set(pub, key)
  }
  return key
}

function parts (record: { sig: RecordSignature }): { key: KeyObject, message: Buffer, signature: Buffer } | undefined {
  const key = publicKeyOf(record.sig.pub)
  const signature = Buffer.from(record.sig.sig, 'base64url')
  // Only the canonical spelling counts: base64url decoding passes over stray characters.
  if (key === null || signature.length !== 64 || signature.toString('base64url') !== record.sig.sig) return undefined
  return { key, message: signedMessage(record), signature }
}

/** Whether the record's signature verifies under the public key it names. */
export function verifyRecord (record: { sig: RecordSignature }): boolean {
  const p = parts(record)
  return p !== undefined && (signedHereOver(record.sig, p.message) || verify(null, p.message, p.key, p.signature))
}

/**
 * {@link verifyRecord} on libuv's thread pool: a replica catching up checks
 * a run's signatures in parallel, off the thread that applies them.
 */
export async function verifyRecordAsync (record: { sig: RecordSignature }): Promise<boolean> {
  const p = parts(record)
  if (p === undefined) return false
  if (signedHereOver(record.sig, p.message)) return true
  return await new Promise(resolve => {
    verify(null, p.message, p.key, p.signature, (err, ok) => { resolve(err === null && ok) })
  })
}

/** JSON with object keys sorted at every level: one spelling per value. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).filter(k => (value as Record<string, unknown>)[k] !== undefined).sort().map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}
