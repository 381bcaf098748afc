/**
 * Patches: RFC 6902 JSON Patch (via fast-json-patch) and RFC 7396 JSON Merge
 * Patch, both bounded. A patch is small, but what it makes need not be: a
 * `copy` doubles what it copies, so forty of them would build a document of
 * terabytes. The size and depth of the result are bounded op by op, at a cost
 * proportional to what each op touches, never to what the patch would build.
 */
import jsonpatch from 'fast-json-patch'
import { CredregError } from './errors.js'
import { isPointer, isProperPrefix, pointerTokens, resolvePointer } from './json-pointer.js'
import type { JsonObject, PatchOperation } from './types.js'
import { DEFAULT_MAX_VALUE_BYTES, MAX_VALUE_DEPTH, depthOf, isJsonObject } from './value.js'

/** Most operations one JSON Patch may hold. */
export const MAX_PATCH_OPS = 1000

/** Options of {@link applyJsonPatch} and {@link applyMergePatch}. */
export interface PatchOptions {
  /** The key the patch is for, named in errors. */
  key?: string
  /** Largest serialized result in bytes (default 65536): a larger one is `VALUE_TOO_LARGE`. */
  maxValueBytes?: number
}

const RFC_6902_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test'])

type Where = { key?: string }

/**
 * Applies RFC 6902 `ops` to a copy of `doc`; `doc` is never touched. More
 * than {@link MAX_PATCH_OPS} ops, a malformed op, a value nested deeper than
 * {@link MAX_VALUE_DEPTH}, a `copy` or `move` into its own source, an op that
 * cannot apply, a failing `test` and a result that is not an object are all
 * `PATCH_FAILED`, found before anything is applied where the patch alone
 * tells. A result over `maxValueBytes` serialized or deeper than
 * {@link MAX_VALUE_DEPTH} is `VALUE_TOO_LARGE`, found at the op that makes it so.
 */
export function applyJsonPatch (doc: JsonObject, ops: unknown, options: PatchOptions = {}): JsonObject {
  const where: Where = options.key === undefined ? {} : { key: options.key }
  const maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
  if (!Array.isArray(ops)) throw new CredregError('PATCH_FAILED', 'a JSON Patch must be an array of operations', where)
  if (ops.length > MAX_PATCH_OPS) throw new CredregError('PATCH_FAILED', `a JSON Patch holds at most ${MAX_PATCH_OPS} operations, this one has ${ops.length}`, where)
  for (const [i, op] of ops.entries()) checkOperation(op, i, where)

  const text = JSON.stringify(doc)
  let result: unknown = JSON.parse(text)
  // An upper bound of the result's serialized size, made exact again whenever it passes the limit.
  let bound = Buffer.byteLength(text)
  for (const [i, op] of (ops as PatchOperation[]).entries()) {
    const step = measure(result, op, i, where)
    if (step.depth > MAX_VALUE_DEPTH) {
      throw new CredregError('VALUE_TOO_LARGE', `operation ${i} would nest the value more than ${MAX_VALUE_DEPTH} levels deep; the limit is ${MAX_VALUE_DEPTH}`, where)
    }
    try {
      result = jsonpatch.applyOperation(result, op, validate, true, true, i).newDocument
    } catch (cause) {
      throw new CredregError('PATCH_FAILED', `operation ${i} cannot be applied: ${describe(cause)}`, { ...where, cause })
    }
    bound = step.root ? step.bytes : bound + step.bytes
    if (bound > maxBytes) {
      bound = Buffer.byteLength(JSON.stringify(result))
      if (bound > maxBytes) {
        throw new CredregError('VALUE_TOO_LARGE', `operation ${i} would make the value at least ${bound} bytes serialized; the limit is ${maxBytes}`, where)
      }
    }
  }
  if (!isJsonObject(result)) throw new CredregError('PATCH_FAILED', 'the patch would make the value something other than a JSON object', where)
  return result
}

/** Refuses, before anything is applied, an op that is malformed or can only be refused. */
function checkOperation (op: unknown, i: number, where: Where): void {
  const fail = (message: string): CredregError => new CredregError('PATCH_FAILED', `operation ${i} ${message}`, where)
  if (!isJsonObject(op)) throw fail('is not an object')
  if (typeof op.op !== 'string' || !RFC_6902_OPS.has(op.op)) throw fail('has no op of RFC 6902 (add, remove, replace, move, copy, test)')
  if (!isPointer(op.path)) throw fail('has no path, or one that is not a JSON Pointer')
  if (op.op === 'copy' || op.op === 'move') {
    if (!isPointer(op.from)) throw fail(`(${op.op}) has no from, or one that is not a JSON Pointer`)
    // A copy into its own subtree doubles it each time; a move there is forbidden by RFC 6902.
    if (isProperPrefix(op.from, op.path)) throw fail(`(${op.op}) would put a value inside itself: from is an ancestor of path`)
  }
  if (depthOf(op.value) > MAX_VALUE_DEPTH) throw fail(`has a value nested more than ${MAX_VALUE_DEPTH} levels deep; the limit is ${MAX_VALUE_DEPTH}`)
  try {
    jsonpatch.validator(op as unknown as PatchOperation, i)
  } catch (cause) {
    throw new CredregError('PATCH_FAILED', `operation ${i} is invalid: ${describe(cause)}`, { ...where, cause })
  }
}

/** What one op does to the result's size (bytes added, or the new total when it replaces the root) and how deep the part it writes reaches. */
interface Step { root: boolean, bytes: number, depth: number }

function measure (doc: unknown, op: PatchOperation, i: number, where: Where): Step {
  const tokens = pointerTokens(op.path)
  const root = tokens.length === 0
  let written: unknown
  if (op.op === 'add' || op.op === 'replace') {
    written = op.value
  } else if (op.op === 'copy' || op.op === 'move') {
    const source = resolvePointer(doc, op.from)
    if (!source.found) throw new CredregError('PATCH_FAILED', `operation ${i} cannot be applied: from does not exist`, where)
    written = source.value
  } else {
    // remove and test write nothing.
    const removed = op.op === 'remove' ? resolvePointer(doc, op.path) : undefined
    return { root: false, bytes: removed?.found === true ? -jsonBytes(removed.value) : 0, depth: 0 }
  }
  const depth = tokens.length + depthOf(written)
  if (root) return { root, bytes: jsonBytes(written), depth }
  // A moved value was counted where it came from: only its new member name may add.
  let bytes = memberBytes(tokens) + (op.op === 'move' ? 0 : jsonBytes(written))
  if (op.op === 'replace') {
    const replaced = resolvePointer(doc, op.path)
    if (replaced.found) bytes -= jsonBytes(replaced.value)
  }
  return { root, bytes, depth }
}

/** The most a member named by the pointer's last token adds around its value: `"name":` and a comma. */
function memberBytes (tokens: string[]): number {
  return Buffer.byteLength(JSON.stringify(tokens.at(-1))) + 2
}

function jsonBytes (value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '')
}

// fast-json-patch checks that a copy's or a move's from exists by trying it on a
// clone of the whole document; measure() has already resolved it, without one.
const validate: jsonpatch.Validator<unknown> = (op, index, document, existingPath) => {
  jsonpatch.validator(op, index, op.op === 'copy' || op.op === 'move' ? undefined : document, existingPath)
}

/**
 * Applies an RFC 7396 merge patch to a copy of `doc`. A patch that is not an
 * object or nests deeper than {@link MAX_VALUE_DEPTH} is `PATCH_FAILED`; a
 * result over `maxValueBytes` serialized is `VALUE_TOO_LARGE`.
 */
export function applyMergePatch (doc: JsonObject, patch: unknown, options: PatchOptions = {}): JsonObject {
  const where: Where = options.key === undefined ? {} : { key: options.key }
  const maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
  if (!isJsonObject(patch)) throw new CredregError('PATCH_FAILED', 'a merge patch for an entity must be a JSON object', where)
  // merge() recurses along the patch: the bound keeps it far from the stack's limit.
  if (depthOf(patch) > MAX_VALUE_DEPTH) {
    throw new CredregError('PATCH_FAILED', `the merge patch nests objects or arrays more than ${MAX_VALUE_DEPTH} levels deep; the limit is ${MAX_VALUE_DEPTH}`, where)
  }
  const result = merge(doc, patch)
  // A merge is never larger than its target and patch together, so it cannot
  // amplify; measuring the result still keeps the contract of the option.
  const bytes = jsonBytes(result)
  if (bytes > maxBytes) throw new CredregError('VALUE_TOO_LARGE', `the merged value is ${bytes} bytes serialized; the limit is ${maxBytes}`, where)
  return result
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
