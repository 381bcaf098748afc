/** RFC 6901 JSON Pointers, as far as bounding a JSON Patch needs them. */

/** Whether `pointer` has JSON Pointer syntax: empty (the whole document) or `/`-separated tokens. */
export function isPointer (pointer: unknown): pointer is string {
  return typeof pointer === 'string' && (pointer === '' || pointer.startsWith('/'))
}

/** The unescaped reference tokens of a pointer (`[]` for the whole document). */
export function pointerTokens (pointer: string): string[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** Whether `ancestor` names a proper ancestor of `pointer`: `''` and `/a` are proper prefixes of `/a/b`, `/a` is not one of `/ab`. */
export function isProperPrefix (ancestor: string, pointer: string): boolean {
  return pointer.startsWith(`${ancestor}/`)
}

/**
 * What `pointer` refers to in `doc`: only own members and array indexes in
 * range count (never `__proto__` or `-`), so a pointer found here names data
 * of the document.
 */
export function resolvePointer (doc: unknown, pointer: string): { found: boolean, value?: unknown } {
  let node = doc
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(node)) {
      if (!/^(?:0|[1-9]\d*)$/.test(token) || Number(token) >= node.length) return { found: false }
      node = node[Number(token)]
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token]
    } else {
      return { found: false }
    }
  }
  return { found: true, value: node }
}
