/**
 * Change feeds over a replica. A watcher that resumes from a sequence gets
 * every retained change after it, then live changes, with no gap and no
 * duplicate between the two (see docs/watch.md). Where retention no longer
 * reaches back far enough for a key, the watcher gets one explicit `resync`
 * event with that key's current state instead of its missing changes.
 */
import { on } from 'node:events'
import jsonpatch from 'fast-json-patch'
import type { ChangeEvent, JsonObject } from '../types.js'
import type { AppliedChange, Replica } from './replica.js'
import { seqKey, type StoredVersion } from './store.js'

/**
 * Starts watching at once (not at the first `next()`), so every change
 * applied after this call is delivered.
 */
export function watchReplica (replica: Replica, prefix: string, since: number | undefined, signal: AbortSignal): AsyncGenerator<ChangeEvent> {
  // Subscribe before reading the backlog, so nothing applied in between is lost.
  const live = on(replica, 'applied', { signal }) as AsyncIterableIterator<[AppliedChange[]]>
  return follow(replica, prefix, since, signal, live, replica.appliedSeq)
}

async function * follow (
  replica: Replica, prefix: string, since: number | undefined, signal: AbortSignal,
  live: AsyncIterableIterator<[AppliedChange[]]>, replayedThrough: number
): AsyncGenerator<ChangeEvent> {
  // Keys resynced from the backlog, with the version they were resynced at: live changes up to it are already covered.
  const resynced = new Map<string, number>()
  try {
    if (since !== undefined && since < replayedThrough) {
      yield * backlog(replica, prefix, since, replayedThrough, resynced)
    }
    for await (const [changes] of live) {
      for (const change of changes) {
        if (change.stored.version <= (resynced.get(change.key) ?? 0)) continue
        if (change.stored.seq > replayedThrough && change.key.startsWith(prefix)) {
          yield await changeEvent(replica, change.key, change.stored, change.prevVersion)
        }
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err
  } finally {
    await live.return?.()
  }
}

async function * backlog (replica: Replica, prefix: string, since: number, through: number, resynced: Map<string, number>): AsyncGenerator<ChangeEvent> {
  if (since < replica.resyncHorizon) {
    for await (const [key, entity] of replica.store.entities.iterator({ gte: prefix, lt: `${prefix}\xff` })) {
      const oldest = entity.retained[0]
      if (entity.pruned && oldest !== undefined && oldest[1] > since) {
        // The key's state as read now, even if it changed after the watch started:
        // the live changes it already covers are skipped, later ones follow it.
        resynced.set(key, entity.version)
        yield resyncEvent(replica, key, entity)
      }
    }
  }
  for await (const [seq, ref] of replica.store.changes.iterator({ gt: seqKey(since), lte: seqKey(through) })) {
    if (!ref.key.startsWith(prefix) || resynced.has(ref.key)) continue
    const stored = await replica.storedVersion(ref.key, ref.version)
    // Pruned between the index read and this one: the live feed or a later resume covers it.
    if (stored === undefined || stored.seq !== Number(seq)) continue
    yield await changeEvent(replica, ref.key, stored, ref.prevVersion)
  }
}

async function changeEvent (replica: Replica, key: string, stored: StoredVersion, prevVersion: number): Promise<ChangeEvent> {
  const value = replica.open(key, stored)
  const prev = prevVersion === 0 ? undefined : await replica.storedVersion(key, prevVersion)
  const prevValue = prev === undefined ? {} : replica.open(key, prev) ?? {}
  return {
    seq: stored.seq,
    key,
    version: stored.version,
    prevVersion,
    op: stored.op,
    ...(value !== undefined ? { value } : {}),
    patch: jsonpatch.compare(prevValue, value ?? {}),
    meta: { ...stored.meta, op: stored.op }
  }
}

function resyncEvent (replica: Replica, key: string, stored: StoredVersion): ChangeEvent {
  const value: JsonObject | undefined = replica.open(key, stored)
  return {
    seq: stored.seq,
    key,
    version: stored.version,
    prevVersion: 0,
    op: 'resync',
    ...(value !== undefined ? { value } : {}),
    patch: jsonpatch.compare({}, value ?? {}),
    meta: { ...stored.meta, op: stored.op },
    deleted: stored.op === 'delete'
  }
}
