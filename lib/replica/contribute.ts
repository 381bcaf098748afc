/**
 * Contributing a replica to a reseeded log: every version this replica holds
 * that is newer than the log's latest for its key is appended again, in
 * version order, as the very record it was (same sealed value, same meta).
 * Every acknowledged write is in its writer's replica, so once each replica
 * has contributed, the log holds every acknowledged version.
 */
import { createHash } from 'node:crypto'
import { StaleAppendError, type AbstractLog } from '../log/abstract-log.js'
import { POLICY_KEY } from '../identity/policy.js'
import { decodeRecord, encodeRecord } from '../records/record.js'
import type { Logger } from '../types.js'
import type { Replica } from './replica.js'
import type { StoredVersion } from './store.js'

/** What a contribution did. */
export interface Contribution {
  /** Keys compared with the log. */
  keys: number
  /** Versions appended. */
  versions: number
}

// Keys compared at once: each is one round trip to the log, and a register holds many.
const CONCURRENCY = 32
const PROGRESS_EVERY = 5000
// A key's latest record can move while this replica appends under it (another
// replica contributing the same key): read again, a few times at most.
const ATTEMPTS = 5

export async function contribute (log: AbstractLog, replica: Replica, logger?: Logger): Promise<Contribution> {
  const result: Contribution = { keys: 0, versions: 0 }
  // The policy first: every record after it in the new log is decided under it, as it was.
  if (replica.policy !== undefined) {
    result.versions += await contributeKey(log, replica, POLICY_KEY)
    result.keys++
  }
  const keys = replica.store.entities.keys()[Symbol.asyncIterator]()
  const worker = async (): Promise<void> => {
    for (let next = await keys.next(); next.done !== true; next = await keys.next()) {
      if (next.value === POLICY_KEY && replica.policy !== undefined) continue
      result.versions += await contributeKey(log, replica, next.value)
      if (++result.keys % PROGRESS_EVERY === 0) logger?.info({ keys: result.keys, versions: result.versions }, 'contributing the replica to the reseeded log')
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  } finally {
    await keys.return?.()
  }
  return result
}

async function contributeKey (log: AbstractLog, replica: Replica, key: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const last = await log.lastRecordOf(key)
    const decoded = last === undefined ? undefined : decodeRecord(last.data, key, replica.namespace)
    const logVersion = decoded?.ok === true ? decoded.record.version : 0
    const missing = (await replica.storedHistory(key)).filter(v => v.version > logVersion)
    let expectedLastSeq = last?.seq ?? 0
    try {
      for (const stored of missing) {
        expectedLastSeq = await log.append(key, encodeRecord(replica.recordOf(key, stored)), {
          expectedLastSeq,
          msgId: contributionId(key, stored)
        })
      }
      return missing.length
    } catch (err) {
      if (!(err instanceof StaleAppendError) || attempt === ATTEMPTS) throw err
    }
  }
}

// The same version contributed by two replicas lands once; nothing else shares the id
// (a correlation id alone may recur across keys: callers choose it).
function contributionId (key: string, stored: StoredVersion): string {
  return `reseed-${createHash('sha256').update(`${key}\0${stored.version}\0${stored.meta.correlationId}`).digest('hex').slice(0, 40)}`
}
