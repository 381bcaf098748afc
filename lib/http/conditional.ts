/**
 * Conditional writes: `If-Match: "N"` and `If-None-Match: *` as node options.
 */
import { CredregError } from '../errors.js'

/** The version an `If-Match` header requires, or `undefined` without one. Accepts `"N"`, `W/"N"` and bare `N`. */
export function parseIfMatch (header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  if (m?.[1] === undefined || Number(m[1]) < 1) {
    throw new CredregError('BAD_REQUEST', `If-Match must be one quoted version such as "3", got ${JSON.stringify(header)}`)
  }
  return Number(m[1])
}

/** Whether an `If-None-Match` header asks for create-only; only `*` is meaningful on a write. */
export function parseIfNoneMatch (header: string | undefined): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  throw new CredregError('BAD_REQUEST', `a write takes only If-None-Match: *, got ${JSON.stringify(header)}`)
}

/** The `ETag` of a version. */
export function etag (version: number): string {
  return `"${version}"`
}
