/**
 * The check of a changeset as a caller gives it, before anything else looks
 * at it: the node's `commit`, the client (so a malformed changeset costs no
 * request), `POST /v1/changesets` and `credreg apply` say the same thing of
 * the same mistake, naming the change at fault.
 */
import { CredregError } from '../errors.js'
import { keyProblem } from '../key.js'
import { MAX_CHANGES, type Change } from '../shapes/changeset.js'
import { isJsonObject } from '../value.js'

/**
 * Checks a changeset as a caller gives it: 1 to {@link MAX_CHANGES}
 * changes, each a valid key at most once, with the fields of its op and
 * consistent conditions. Throws `BAD_REQUEST` (or `INVALID_KEY`,
 * `INVALID_VALUE`) naming the change; nothing is written.
 */
export function checkChanges (input: unknown): Change[] {
  if (!Array.isArray(input)) throw new CredregError('BAD_REQUEST', 'a changeset is an array of changes')
  if (input.length === 0) throw new CredregError('BAD_REQUEST', 'a changeset needs at least one change')
  if (input.length > MAX_CHANGES) throw new CredregError('BAD_REQUEST', `a changeset changes at most ${MAX_CHANGES} keys, got ${input.length}`)
  const seen = new Set<string>()
  return input.map((change: unknown, i) => {
    const c = change as Record<string, unknown>
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new CredregError('BAD_REQUEST', `change ${i} is not an object`)
    const problem = keyProblem(c.key)
    if (problem !== undefined) throw new CredregError('INVALID_KEY', `change ${i}: invalid key ${JSON.stringify(c.key)}: ${problem}`)
    const key = c.key as string
    const where = { key }
    if (seen.has(key)) throw new CredregError('BAD_REQUEST', `${key} appears twice in the changeset: each key at most once`, where)
    seen.add(key)
    const field = ({ put: 'value', patch: 'ops', merge: 'patch', delete: undefined } as const)[c.op as 'put']
    if (!['put', 'patch', 'merge', 'delete'].includes(c.op as string)) {
      throw new CredregError('BAD_REQUEST', `${key}: op must be put, patch, merge or delete, got ${JSON.stringify(c.op)}`, where)
    }
    const allowed = new Set(['key', 'op', 'ifVersion', 'ifAbsent', ...(field === undefined ? [] : [field])])
    const extra = Object.keys(c).find(name => !allowed.has(name))
    if (extra !== undefined) throw new CredregError('BAD_REQUEST', `${key}: a ${String(c.op)} change takes no ${extra}`, where)
    if (c.op === 'put' && !isJsonObject(c.value)) throw new CredregError('INVALID_VALUE', `${key}: a put needs value, a JSON object`, where)
    if (c.op === 'merge' && !isJsonObject(c.patch)) throw new CredregError('BAD_REQUEST', `${key}: a merge needs patch, a JSON object (RFC 7396)`, where)
    if (c.op === 'patch' && !Array.isArray(c.ops)) throw new CredregError('BAD_REQUEST', `${key}: a patch needs ops, an array of RFC 6902 operations`, where)
    if (c.ifVersion !== undefined && (!Number.isSafeInteger(c.ifVersion) || (c.ifVersion as number) < 0)) {
      throw new CredregError('BAD_REQUEST', `${key}: ifVersion must be an integer of at least 0, got ${JSON.stringify(c.ifVersion)}`, where)
    }
    if (c.ifAbsent !== undefined && typeof c.ifAbsent !== 'boolean') throw new CredregError('BAD_REQUEST', `${key}: ifAbsent must be true or false`, where)
    if (c.ifVersion !== undefined && c.ifAbsent === true) throw new CredregError('BAD_REQUEST', `${key}: ifVersion and ifAbsent exclude each other`, where)
    return c as unknown as Change
  })
}
/**
 * Checks a changeset document or request body, `{ "changes": [ … ] }` and
 * nothing else, then its changes as {@link checkChanges} does. `what` names
 * the document in messages (`the body`, `the changeset document`).
 */
export function checkChangesetBody (body: unknown, what: string): Change[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CredregError('BAD_REQUEST', `${what} must be a JSON object { "changes": [ … ] }, not ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`)
  }
  const extra = Object.keys(body).find(name => name !== 'changes')
  if (extra !== undefined) throw new CredregError('BAD_REQUEST', `${what} takes "changes" only, not ${JSON.stringify(extra)}`)
  if (!('changes' in body)) throw new CredregError('BAD_REQUEST', `${what} has no "changes": it must be { "changes": [ … ] }`)
  return checkChanges(body.changes)
}
