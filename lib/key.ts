/**
 * Key syntax and the key ↔ NATS subject mapping.
 *
 * A key is 1–256 bytes of `/`-separated segments of `[A-Za-z0-9_.-]`, with no
 * empty, `.` or `..` segment. Each segment becomes one subject token; since a
 * segment may hold `.` (the token separator) the mapping escapes:
 *
 *   `_` → `__`      `.` → `_d`      everything else unchanged
 *
 * The escapes are prefix-free, so the mapping is injective and reversible, and a
 * token can only contain `[A-Za-z0-9_-]`: never a wildcard (`*`, `>`), a
 * separator or white space. `svc/db.prod/pass_1` ↦ `svc.db_dprod.pass__1`.
 */
import { CredregError } from './errors.js'

/** Longest key, in bytes (UTF-8; keys are ASCII so bytes = characters). */
export const MAX_KEY_BYTES = 256

const SEGMENT = /^[A-Za-z0-9_.-]+$/
const NAMESPACE = /^[A-Za-z0-9_-]{1,64}$/
const TOKEN = /^(?:[A-Za-z0-9-]|_[_d])+$/

/** Why `key` is not a valid key, or `undefined` when it is. */
export function keyProblem (key: unknown): string | undefined {
  if (typeof key !== 'string') return 'a key must be a string'
  if (key.length === 0) return 'a key must not be empty'
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `a key must be at most ${MAX_KEY_BYTES} bytes`
  if (key.startsWith('/') || key.endsWith('/')) return 'a key must not start or end with /'
  for (const segment of key.split('/')) {
    if (segment.length === 0) return 'a key must not contain an empty segment (//)'
    if (segment === '.' || segment === '..') return 'a key must not contain a . or .. segment'
    if (!SEGMENT.test(segment)) return 'key segments may only contain A-Z a-z 0-9 _ . -'
  }
  return undefined
}

/** Throws `INVALID_KEY` unless `key` is valid. */
export function assertKey (key: unknown): asserts key is string {
  const problem = keyProblem(key)
  if (problem !== undefined) {
    throw new CredregError('INVALID_KEY', `invalid key ${JSON.stringify(key)}: ${problem}`, typeof key === 'string' ? { key } : undefined)
  }
}

/** Throws `INVALID_CONFIG` unless `ns` is a valid namespace (`[A-Za-z0-9_-]{1,64}`). */
export function assertNamespace (ns: unknown): asserts ns is string {
  if (typeof ns !== 'string' || !NAMESPACE.test(ns)) {
    throw new CredregError('INVALID_CONFIG', `invalid namespace ${JSON.stringify(ns)}: use 1-64 characters of A-Z a-z 0-9 _ -`)
  }
}

/** The subject tokens of a valid key, joined with `.`. */
export function keyToSubjectTokens (key: string): string {
  return key.split('/').map(escapeSegment).join('.')
}

/** The key for subject tokens, or `undefined` when they are not the image of a valid key. */
export function subjectTokensToKey (tokens: string): string | undefined {
  const parts = tokens.split('.')
  if (!parts.every(token => TOKEN.test(token))) return undefined
  const key = parts.map(unescapeToken).join('/')
  return keyProblem(key) === undefined ? key : undefined
}

function escapeSegment (segment: string): string {
  return segment.replaceAll('_', '__').replaceAll('.', '_d')
}

function unescapeToken (token: string): string {
  return token.replace(/_([_d])/g, (_, c: string) => (c === '_' ? '_' : '.'))
}

/** Whether `prefix` is usable as a listing or watch prefix (any key prefix, or empty). */
export function assertPrefix (prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || Buffer.byteLength(prefix) > MAX_KEY_BYTES || !/^[A-Za-z0-9_./-]*$/.test(prefix)) {
    throw new CredregError('INVALID_KEY', `invalid prefix ${JSON.stringify(prefix)}: use at most ${MAX_KEY_BYTES} characters of A-Z a-z 0-9 _ . - /`)
  }
}
