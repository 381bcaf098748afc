/**
 * The write path: every write is a conditional append of version N+1 on top
 * of version N, checked by the log itself, then awaited in the local replica
 * (read-your-writes). The first attempt trusts the replica (no network read);
 * after a refusal the log says what is latest and the replica catches up to it.
 */
import { v7 as uuidv7 } from 'uuid'
import { conditionError, live, unmetCondition } from './conditions.js'
import { CredregError } from '../errors.js'
import { StaleAppendError } from '../log/abstract-log.js'
import { buildRecord, encodeRecord, type LogRecord } from '../records/record.js'
import type { Replica } from '../replica/replica.js'
import { subjectSeqOf } from '../replica/store.js'
import type { JsonObject, WriteOp, WriteResult } from '../types.js'
import { serializeValue } from '../value.js'
import { appendWithRetry, correlationIdOf, whenWritable, type WritePath } from './write-path.js'
import { WriteTimer } from '../timings/write-timer.js'

/** What a write does to the current value: `undefined` current means absent or deleted. */
export interface WriteIntent {
  op: WriteOp
  /** The new value; a patch gets the current one (a put gets `undefined`). Not called for a delete. */
  apply?: (current: JsonObject | undefined) => JsonObject
  ifVersion?: number
  ifAbsent?: boolean
  correlationId?: string
}

export interface WriterOptions extends WritePath {
  replica: Replica
  namespace: string
  nodeId: string
  maxValueBytes: number
}

export class Writer {
  readonly #o: WriterOptions

  constructor (options: WriterOptions) {
    this.#o = options
  }

  async write (key: string, intent: WriteIntent): Promise<WriteResult> {
    const { log, replica, timings } = this.#o
    const timer = timings === undefined ? undefined : new WriteTimer(timings)
    const correlationId = correlationIdOf(intent.correlationId, key)
    const deadline = Date.now() + this.#o.timeoutMs
    let head = await replica.head(key)
    let expectedSeq = head === undefined ? 0 : subjectSeqOf(head)
    // True once `head` comes from the log's own answer, not just the replica's view.
    let confirmed = false

    const refresh = async (): Promise<void> => {
      await whenWritable(this.#o, deadline, key)
      // Through the log's last record, not just the key's: a changeset (on a subject
      // of its own) may have moved the key since the key's own latest record.
      const [subjectSeq, logSeq] = await Promise.all([log.lastSeqOf(key), log.lastSeq()])
      await replica.waitForApplied(Math.max(subjectSeq, logSeq), Math.max(1, deadline - Date.now()))
      head = await replica.head(key)
      // The latest record may have been refused by the replica (forged, malformed): build on it anyway.
      expectedSeq = subjectSeq
      confirmed = true
    }

    for (;;) {
      await whenWritable(this.#o, deadline, key)
      // What every replica would refuse under the policy this one holds is refused here, before anything is sent.
      const denied = replica.access.forbidden(this.#o.nodeId, [key])
      if (denied !== undefined) throw denied
      const current = live(head)
      const currentVersion = head?.version ?? 0
      const unmet = unmetCondition(intent, currentVersion, current !== undefined)
      if (unmet !== undefined) {
        // The replica may lag behind the log: only the log's answer makes a refusal final.
        if (confirmed || unmet === 'older') throw conditionError(key, intent, unmet, currentVersion)
        await refresh()
        continue
      }
      timer?.mark('checked')
      const version = currentVersion + 1
      const record = this.#record(key, version, intent, current === undefined || intent.op !== 'patch' ? undefined : replica.unseal(key, current), correlationId)
      let seq: number
      try {
        // A message id of this record alone: a caller's correlation id may recur (on
        // other keys too), and a deduplicated append must only answer for this record.
        const data = encodeRecord(record)
        const msgId = uuidv7()
        timer?.mark('sealed')
        seq = await appendWithRetry(this.#o, key, deadline, async timeoutMs => await log.append(key, data, { expectedLastSeq: expectedSeq, msgId, timeoutMs }), key)
        timer?.mark('published')
      } catch (err) {
        if (!(err instanceof StaleAppendError)) throw err
        await refresh()
        continue
      }
      await replica.waitForApplied(seq, Math.max(1, deadline - Date.now()))
      const outcome = await this.#outcome(key, version, seq, expectedSeq)
      timer?.mark('applied')
      if (outcome === 'refused') {
        // The log took the record, but another one under the same version came first (a
        // clustered stream can let two conditional publishes through at once), so every
        // replica refuses this one: it never happened. Decide again on what did.
        await refresh()
        continue
      }
      if (outcome === 'unknown') {
        throw new CredregError('TIMEOUT', `${key}: version ${version} was appended at sequence ${seq}, but whether it counts cannot be told any more ` +
          '(the log no longer holds the records around it and this replica never read it); read the key to see', { key })
      }
      timer?.done()
      return { key, version, seq, created: current === undefined, correlationId }
    }
  }

  /**
   * Whether the record appended at `seq` as `version` of `key` counts. Every
   * replica applies the first authentic record under a version and refuses
   * any later one, so what this replica did with it tells. A replica that
   * fell behind may never have read it (the per-key limit deleted it first):
   * then the log tells, by which authentic record came first after the one
   * this write built on (a forged one in between counts for nothing).
   */
  async #outcome (key: string, version: number, seq: number, builtOn: number): Promise<'applied' | 'refused' | 'unknown'> {
    const { replica, log } = this.#o
    const seen = replica.outcomeOf(seq)
    if (seen !== undefined) return seen ? 'applied' : 'refused'
    // A changeset (never deleted by the per-key limit, so this replica read it) took the version.
    if ((await replica.storedVersion(key, version))?.changeset !== undefined) return 'refused'
    for (let after = builtOn; ;) {
      const next = await log.recordAfter(key, after)
      if (next === undefined || next.seq > seq) return 'unknown'
      if (next.seq === seq) return 'applied'
      const decided = replica.judgeAlone(next)
      if (decided.applied && 'key' in decided.record && decided.record.version === version) return 'refused'
      after = next.seq
    }
  }

  #record (key: string, version: number, intent: WriteIntent, current: JsonObject | undefined, correlationId: string): LogRecord {
    const head = { ns: this.#o.namespace, key, version, meta: { updatedAt: new Date().toISOString(), nodeId: this.#o.nodeId, correlationId } }
    const keys = this.#o.replica.access.recordKeys()
    if (intent.op === 'delete') return buildRecord(head, 'delete', undefined, keys)
    const value = (intent.apply as NonNullable<WriteIntent['apply']>)(current)
    return buildRecord(head, intent.op, serializeValue(value, this.#o.maxValueBytes, key), keys)
  }
}
