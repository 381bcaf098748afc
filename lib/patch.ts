/** Patches: RFC 6902 JSON Patch (via fast-json-patch) and RFC 7396 JSON Merge Patch. */
import jsonpatch from 'fast-json-patch'
import { CredregError } from './errors.js'
import type { JsonObject, PatchOperation } from './types.js'
import { isJsonObject } from './value.js'

/**
 * Applies RFC 6902 `ops` to a copy of `doc`. Invalid ops, a failing `test`
 * and a result that is not an object are all `PATCH_FAILED`; `doc` is never
 * touched.
 */
export function applyJsonPatch (doc: JsonObject, ops: unknown, key?: string): JsonObject {
  const where = key === undefined ? {} : { key }
  if (!Array.isArray(ops)) throw new CredregError('PATCH_FAILED', 'a JSON Patch must be an array of operations', where)
  let result: unknown
  try {
    const problem = jsonpatch.validate(ops as PatchOperation[], doc)
    if (problem !== undefined) throw problem
    result = jsonpatch.applyPatch(structuredClone(doc), ops as PatchOperation[], true, true).newDocument
  } catch (cause) {
    throw new CredregError('PATCH_FAILED', `the patch cannot be applied: ${describe(cause)}`, { ...where, cause })
  }
  if (!isJsonObject(result)) throw new CredregError('PATCH_FAILED', 'the patch would make the value something other than a JSON object', where)
  return result
}

/** Applies an RFC 7396 merge patch to a copy of `doc`. */
export function applyMergePatch (doc: JsonObject, patch: unknown, key?: string): JsonObject {
  if (!isJsonObject(patch)) {
    throw new CredregError('PATCH_FAILED', 'a merge patch for an entity must be a JSON object', key === undefined ? {} : { key })
  }
  return merge(doc, patch)
}

function merge (target: unknown, patch: JsonObject): JsonObject {
  const out: JsonObject = isJsonObject(target) ? { ...target } : {}
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name]
    else out[name] = isJsonObject(value) ? merge(out[name], value) : value
  }
  return out
}

function describe (err: unknown): string {
  if (err instanceof Error) {
    // fast-json-patch's messages carry the whole document after a newline: keep only the first line.
    const first = err.message.split('\n')[0] ?? err.message
    return (err as { name?: string }).name === 'TEST_OPERATION_FAILED' ? 'a test operation failed' : first
  }
  return String(err)
}
