/** A key's retained history, each version with the patch from the one before. */
import jsonpatch from 'fast-json-patch'
import type { HistoryEntry, JsonObject } from '../types.js'
import type { Replica } from './replica.js'

export async function historyOf (replica: Replica, key: string): Promise<HistoryEntry[]> {
  const versions = await replica.storedHistory(key)
  let previous: JsonObject = {}
  return versions.map(stored => {
    const unreadable = replica.access.unreadable(key, stored.value?.kid)
    const value = unreadable === undefined ? replica.unseal(key, stored) : undefined
    const entry: HistoryEntry = {
      version: stored.version,
      seq: stored.seq,
      op: stored.op,
      meta: replica.metaOf(stored),
      value,
      ...(unreadable !== undefined ? { unreadable } : {}),
      patch: jsonpatch.compare(previous, value ?? {}),
      ...(stored.changeset !== undefined ? { changeset: stored.changeset } : {})
    }
    previous = value ?? {}
    return entry
  })
}
