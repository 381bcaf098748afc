/**
 * Conditional writes: `If-Match` (RFC 9110: `*`, `"N"`, lists, weak tags
 * that never match) and `If-None-Match: *` as node options.
 */
import { CredregError, isCredregError, VersionConflictError } from '../errors.js'
import type { CredregNode } from '../types.js'

/**
 * What an `If-Match` header asks for: `*` (a current value, whichever), or
 * the versions whose `ETag` it lists. `versions` holds only the tags that
 * can match: a weak tag never matches by RFC 9110's strong comparison, nor
 * does a well-formed tag that is no ETag of ours, so it may be empty.
 */
export type IfMatch = { any: true } | { versions: number[] }

/**
 * Parses `If-Match` by RFC 9110 (section 13.1.1): `*` or a comma-separated
 * list of entity tags (`"3", "4"`, `W/"3"`). A header that is neither is
 * `BAD_REQUEST`; its text is never quoted back.
 */
export function parseIfMatch (header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined
  if (header.trim() === '*') return { any: true }
  const tags = entityTags(header)
  if (tags === undefined) throw new CredregError('BAD_REQUEST', 'If-Match must be * or a list of quoted ETags such as "3", "4"')
  const versions = tags.filter(tag => !tag.weak && /^[1-9]\d{0,14}$/.test(tag.opaque)).map(tag => Number(tag.opaque))
  return { versions: [...new Set(versions)] }
}

// One list element: OWS [ entity-tag ] OWS, then a comma or the end. entity-tag =
// [ W/ ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (a comma included).
const ELEMENT = /[ \t]*(?:(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)")?[ \t]*(?:,|$)/y

/** The entity tags of a list header, or `undefined` when it is not one (or lists none). */
function entityTags (header: string): Array<{ weak: boolean, opaque: string }> | undefined {
  const tags: Array<{ weak: boolean, opaque: string }> = []
  for (let at = 0; at < header.length;) {
    ELEMENT.lastIndex = at
    const m = ELEMENT.exec(header)
    if (m === null || ELEMENT.lastIndex === at) return undefined
    if (m[2] !== undefined) tags.push({ weak: m[1] !== undefined, opaque: m[2] })
    at = ELEMENT.lastIndex
  }
  return tags.length === 0 ? undefined : tags
}

/**
 * The node options a parsed `If-Match` header comes to. `*` is `ifExists`; one
 * version is `ifVersion`, which the write path checks against the log. A list
 * (or only tags that cannot match) is decided by the current version: the
 * one listed becomes `ifVersion`, so a write landing in between still loses;
 * none listed is `VERSION_CONFLICT` (412) without writing.
 */
export async function ifMatchOptions (node: CredregNode, key: string, wanted: IfMatch | undefined): Promise<{ ifVersion?: number, ifExists?: true }> {
  if (wanted === undefined) return {}
  if ('any' in wanted) return { ifExists: true }
  const [only] = wanted.versions
  if (only !== undefined && wanted.versions.length === 1) return { ifVersion: only }
  const current = await node.get(key).then(entity => entity.version, (err: unknown) => {
    if (isCredregError(err, 'NOT_FOUND')) return undefined
    throw err
  })
  if (current !== undefined && wanted.versions.includes(current)) return { ifVersion: current }
  // A deleted key's latest version is its tombstone, which only the history still shows.
  const latest = current ?? await node.history(key).then(entries => entries.at(-1)?.version ?? 0, () => 0)
  const err = new VersionConflictError(key, undefined, latest)
  err.message = current === undefined
    ? `${key}: If-Match needs a current value, but the key does not exist`
    : `${key}: If-Match lists no strong ETag of the latest version ${current} (a weak W/ tag never matches)`
  throw err
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
