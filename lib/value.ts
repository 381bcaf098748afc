/** Value rules: a JSON object, at most `maxBytes` serialized. */
import { CredregError } from './errors.js'
import type { JsonObject } from './types.js'

/** Default largest serialized value, in bytes. */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024

/**
 * The largest value any node may be configured to write, and so the largest
 * plaintext a replica accepts from the log: the same on every replica (a
 * node's own `maxValueBytes` bounds only what it writes).
 */
export const MAX_VALUE_BYTES_CEILING = 1024 * 1024

/** Whether `value` is a plain JSON object (not an array, null or a primitive). */
export function isJsonObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks `value` and returns its serialized form, so callers never stringify
 * twice. Throws `INVALID_VALUE` or `VALUE_TOO_LARGE`.
 */
export function serializeValue (value: unknown, maxBytes: number, key?: string): Buffer {
  const where = key === undefined ? {} : { key }
  if (!isJsonObject(value)) {
    throw new CredregError('INVALID_VALUE', `a value must be a JSON object, got ${describe(value)}`, where)
  }
  let text: string
  try {
    text = JSON.stringify(value)
  } catch (cause) {
    throw new CredregError('INVALID_VALUE', 'the value cannot be serialized as JSON', { ...where, cause })
  }
  // JSON.stringify drops what JSON cannot hold (undefined, functions); the
  // round trip makes the stored value exactly what a reader will see.
  const bytes = Buffer.from(text)
  if (bytes.length > maxBytes) {
    throw new CredregError('VALUE_TOO_LARGE', `the value is ${bytes.length} bytes serialized; the limit is ${maxBytes}`, where)
  }
  return bytes
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
