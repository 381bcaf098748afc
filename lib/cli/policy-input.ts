/**
 * Commander argument parsers of the policy commands (`credreg admin grant`,
 * `rotate-key`, …): host names, public keys, prefixes and key ids, checked
 * before anything is read from the daemon, so a typo changes nothing.
 */
import { InvalidArgumentError } from 'commander'
import { PUBLIC_KEY_PATTERN } from '../identity/signing-key.js'
import { MAX_GRANT_PREFIXES } from '../identity/policy.js'
import { assertPrefix } from '../key.js'

const HOST_NAME = /^[A-Za-z0-9_.-]{1,128}$/
const PUBLIC_KEY = new RegExp(PUBLIC_KEY_PATTERN)
const KID = /^[0-9a-f]{16}$/

/** A host's name in the policy: its node id, 1-128 characters of A-Z a-z 0-9 _ . - */
export function hostName (value: string): string {
  if (!HOST_NAME.test(value)) throw new InvalidArgumentError(`a host name is its node id, 1-128 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(value)}.`)
  return value
}

/** A host's public key: the 43 base64url characters `credreg whoami` prints. */
export function publicKey (value: string): string {
  if (!PUBLIC_KEY.test(value)) throw new InvalidArgumentError(`a public key is 43 base64url characters (as credreg whoami prints it), got ${JSON.stringify(value)}.`)
  return value
}

/** One key prefix ('' for every key). */
export function prefix (value: string): string {
  try {
    assertPrefix(value)
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`)
  }
  return value
}

/**
 * Comma-separated key prefixes, each once (`svc/a/,svc/b/`); `*` is every
 * key (the prefix ''); an empty argument grants none.
 */
export function prefixList (value: string): string[] {
  if (value === '') return []
  const list = value.split(',').map(p => p.trim() === '*' ? '' : prefix(p.trim()))
  if (new Set(list).size !== list.length) throw new InvalidArgumentError('each prefix once.')
  if (list.length > MAX_GRANT_PREFIXES) throw new InvalidArgumentError(`at most ${MAX_GRANT_PREFIXES} prefixes.`)
  return list
}

/** A data key's id: 16 hex digits, as `credreg admin keygen --scope` and `credreg whoami` print it. */
export function keyId (value: string): string {
  if (!KID.test(value)) throw new InvalidArgumentError(`a key id is 16 lowercase hex digits (as credreg admin keygen --scope prints it), got ${JSON.stringify(value)}.`)
  return value
}
