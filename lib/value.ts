/** Value rules: a JSON object, at most `maxBytes` serialized and {@link MAX_VALUE_DEPTH} levels deep. */
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

/**
 * Deepest nesting of objects and arrays in a value (the value itself is
 * level 1). Serializing, cloning and merging recurse, and a few thousand
 * levels are enough to overflow the stack: the limit keeps every value and
 * every patch far from that.
 */
export const MAX_VALUE_DEPTH = 64

/** Whether `value` is a plain JSON object (not an array, null or a primitive). */
export function isJsonObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * How many levels of objects and arrays `value` nests (0 for a primitive, 1
 * for `{}`). It walks with a stack of its own, so any depth is safe to measure.
 */
export function depthOf (value: unknown): number {
  let deepest = 0
  const pending: Array<[unknown, number]> = [[value, 1]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, level] = next
    if (typeof node !== 'object' || node === null) continue
    if (level > deepest) deepest = level
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) pending.push([child, level + 1])
    }
  }
  return deepest
}

/**
 * Checks `value` and returns its serialized form, so callers never stringify
 * twice. Throws `INVALID_VALUE`, or `VALUE_TOO_LARGE` for a value over
 * `maxBytes` serialized or deeper than {@link MAX_VALUE_DEPTH}.
 */
export function serializeValue (value: unknown, maxBytes: number, key?: string): Buffer {
  const where = key === undefined ? {} : { key }
  if (!isJsonObject(value)) {
    throw new CredregError('INVALID_VALUE', `a value must be a JSON object, got ${describe(value)}`, where)
  }
  if (depthOf(value) > MAX_VALUE_DEPTH) {
    throw new CredregError('VALUE_TOO_LARGE', `the value nests objects or arrays more than ${MAX_VALUE_DEPTH} levels deep; the limit is ${MAX_VALUE_DEPTH}`, where)
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
