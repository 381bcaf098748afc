/**
 * Re-sealing a read scope after its key was rotated: every live value of the
 * scope still sealed under an older key id is written again, unchanged, as
 * a new version sealed under the scope's current key, conditional on the
 * version read (a key written meanwhile is sealed under the current key
 * already). Once a scope's live values all are, its older key can be retired.
 */
import { CredregError, isCredregError } from '../errors.js'
import type { Replica } from '../replica/replica.js'
import type { JsonObject, WriteResult } from '../types.js'

/** What a reseal did. */
export interface ResealResult {
  /** Values written again under the current key. */
  resealed: number
  /** Values already under it (or written anew meanwhile). */
  current: number
  /** Values that could not be written again, and why. */
  failed: Array<{ key: string, code: string, message: string }>
}

/** How a reseal writes: a put of the same value, conditional on the version read. */
export type ResealPut = (key: string, value: JsonObject, ifVersion: number) => Promise<WriteResult>

// Keys read per page of the scope.
const PAGE = 500

/** Re-seals every live value under `prefix` not under its scope's current key; `onProgress` after each page. */
export async function resealKeys (replica: Replica, prefix: string, put: ResealPut, onProgress?: (result: ResealResult) => void): Promise<ResealResult> {
  const policy = replica.policy
  if (policy === undefined) throw new CredregError('BAD_REQUEST', 'no policy is in force: values are sealed under the namespace key, there is no scope to reseal')
  const result: ResealResult = { resealed: 0, current: 0, failed: [] }
  let after: string | undefined
  for (;;) {
    const page = await replica.list(prefix, { limit: PAGE, ...(after !== undefined ? { after } : {}) })
    for (const { key } of page.items) {
      const head = await replica.head(key)
      const kid = head?.value?.kid
      const scope = policy.scopeOf(key)
      if (head === undefined || kid === undefined || scope === undefined || kid === scope.kids[0]) {
        result.current++
        continue
      }
      try {
        await put(key, replica.unseal(key, head) ?? {}, head.version)
        result.resealed++
      } catch (err) {
        if (isCredregError(err, 'VERSION_CONFLICT')) result.current++
        else result.failed.push({ key, code: isCredregError(err) ? err.code : 'INTERNAL', message: (err as Error).message })
      }
    }
    onProgress?.(result)
    if (page.next === undefined) return result
    after = page.next
  }
}
