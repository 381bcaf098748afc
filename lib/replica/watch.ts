/**
 * Change feeds over a replica. A watcher that resumes from a sequence gets
 * every retained change after it, then live changes, with no gap and no
 * duplicate between the two (see docs/watch.md). Where retention no longer
 * reaches back far enough for a key, the watcher gets one explicit `resync`
 * event with that key's current state instead of its missing changes.
 */
import type { AbstractSnapshot } from 'abstract-level'
import jsonpatch from 'fast-json-patch'
import type { ChangeEvent, JsonObject } from '../types.js'
import { ChangeQueue, type QueueTally } from './change-queue.js'
import type { Replica } from './replica.js'
import { changeRange, historyKey, seqOfChangeKey, type StoredEntity, type StoredVersion } from './store.js'

/** Reads one stored version (from the backlog's snapshot, or the replica as it is now). */
type VersionReader = (key: string, version: number) => Promise<StoredVersion | undefined>

/** Options of {@link watchReplica}. */
export interface WatchReplicaOptions {
  /** Replay every retained change after this sequence first. */
  since: number | undefined
  /** Ends the watch (the iterator then ends without error). */
  signal: AbortSignal
  /** Byte budget of the queue of live changes not yet taken (see {@link ChangeQueue}). */
  queueBytes: number
  /** Where the queue counts the bytes it holds, beside the other queues of the node. */
  tally?: QueueTally
  /** Called once when the backlog replay is over (replayed, failed or abandoned). */
  onReplayed?: () => void
}

/** Whether watching from `since` replays a backlog (a snapshot of the replica) before going live. */
export function replays (replica: Replica, since: number | undefined): boolean {
  return since !== undefined && since < replica.appliedSeq
}

/**
 * Starts watching at once (not at the first `next()`), so every change
 * applied after this call is delivered. Aborting `signal` releases everything
 * the watch holds, even if it was never iterated.
 */
export function watchReplica (replica: Replica, prefix: string, options: WatchReplicaOptions): AsyncGenerator<ChangeEvent> {
  const { since, signal } = options
  const through = replica.appliedSeq
  // Subscribe before reading the backlog, so nothing applied in between is lost.
  // A change this host may not read or cannot open is not the watcher's: it never sees it.
  const live = new ChangeQueue(replica, c => c.stored.seq > through && c.key.startsWith(prefix) && replica.access.canOpen(c.key, c.stored.value?.kid), options.queueBytes, signal, options.tally)
  // The backlog is read from a snapshot taken now: entities, the change index and
  // history then agree with each other, whatever the apply loop prunes meanwhile
  // (a replica catching up prunes the very versions a resuming watcher needs).
  const snapshot = replays(replica, since) ? replica.store.db.snapshot() : undefined
  let replayed = snapshot === undefined
  const endReplay = async (): Promise<void> => {
    if (replayed) return
    replayed = true
    signal.removeEventListener('abort', onAbort)
    await snapshot?.close()
    options.onReplayed?.()
  }
  const onAbort = (): void => { endReplay().catch(() => {}) }
  if (!replayed) signal.addEventListener('abort', onAbort, { once: true })
  return follow(replica, prefix, since, signal, live, through, snapshot, endReplay)
}

async function * follow (
  replica: Replica, prefix: string, since: number | undefined, signal: AbortSignal,
  live: ChangeQueue, replayedThrough: number, snapshot: AbstractSnapshot | undefined, endReplay: () => Promise<void>
): AsyncGenerator<ChangeEvent> {
  // Keys resynced from the backlog, with the version they were resynced at: live changes up to it are already covered.
  const resynced = new Map<string, number>()
  try {
    if (since !== undefined && snapshot !== undefined) {
      for await (const event of backlog(replica, prefix, since, replayedThrough, resynced, snapshot)) {
        // A consumer too slow for the live changes piling up meanwhile learns it now, not after the whole backlog.
        if (live.failure !== undefined) throw live.failure
        yield event
      }
      await endReplay()
    }
    const current: VersionReader = async (key, version) => await replica.storedVersion(key, version)
    for (let change = await live.next(); change !== undefined; change = await live.next()) {
      if (change.stored.version <= (resynced.get(change.key) ?? 0)) continue
      yield await changeEvent(replica, change.key, change.stored, change.prevVersion, current)
    }
  } catch (err) {
    if (!signal.aborted) throw err
  } finally {
    live.close()
    await endReplay()
  }
}

async function * backlog (
  replica: Replica, prefix: string, since: number, through: number, resynced: Map<string, number>, snapshot: AbstractSnapshot
): AsyncGenerator<ChangeEvent> {
  const { entities, history, changes } = replica.store
  const read: VersionReader = async (key, version) => await history.get(historyKey(key, version), { snapshot })
  const resync = (key: string, entity: StoredEntity): ChangeEvent => {
    resynced.set(key, entity.version)
    return resyncEvent(replica, key, entity)
  }
  if (since < replica.resyncHorizon) {
    for await (const [key, entity] of entities.iterator({ gte: prefix, lt: `${prefix}\xff`, snapshot })) {
      const oldest = entity.retained[0]
      if (entity.pruned && oldest !== undefined && oldest[1] > since && replica.access.canOpen(key, entity.value?.kid)) yield resync(key, entity)
    }
  }
  for await (const [at, ref] of changes.iterator({ ...changeRange(since + 1, through), snapshot })) {
    if (!ref.key.startsWith(prefix) || resynced.has(ref.key)) continue
    const stored = await read(ref.key, ref.version)
    if (stored === undefined || stored.seq !== seqOfChangeKey(at)) {
      // The index names a version the snapshot's history lacks (only a replica damaged
      // by hand would do that): say so with the key's state rather than skip silently.
      const entity = await entities.get(ref.key, { snapshot })
      if (entity !== undefined && replica.access.canOpen(ref.key, entity.value?.kid)) yield resync(ref.key, entity)
      continue
    }
    if (!replica.access.canOpen(ref.key, stored.value?.kid)) continue
    yield await changeEvent(replica, ref.key, stored, ref.prevVersion, read)
  }
}

async function changeEvent (replica: Replica, key: string, stored: StoredVersion, prevVersion: number, read: VersionReader): Promise<ChangeEvent> {
  const value = replica.unseal(key, stored)
  const prev = prevVersion === 0 ? undefined : await read(key, prevVersion)
  // A previous version this host cannot open (a key retired since) counts as nothing: the patch is the whole value.
  const prevValue = prev === undefined || replica.access.unreadable(key, prev.value?.kid) !== undefined ? {} : replica.unseal(key, prev) ?? {}
  return {
    seq: stored.seq,
    key,
    version: stored.version,
    prevVersion,
    op: stored.op,
    ...(value !== undefined ? { value } : {}),
    patch: jsonpatch.compare(prevValue, value ?? {}),
    meta: replica.metaOf(stored),
    ...(stored.changeset !== undefined ? { changeset: stored.changeset } : {})
  }
}

function resyncEvent (replica: Replica, key: string, stored: StoredVersion): ChangeEvent {
  const value: JsonObject | undefined = replica.unseal(key, stored)
  return {
    seq: stored.seq,
    key,
    version: stored.version,
    prevVersion: 0,
    op: 'resync',
    ...(value !== undefined ? { value } : {}),
    patch: jsonpatch.compare({}, value ?? {}),
    meta: replica.metaOf(stored),
    deleted: stored.op === 'delete'
  }
}
