/**
 * The write path: every write is a conditional append of version N+1 on top
 * of version N, checked by the log itself, then awaited in the local replica
 * (read-your-writes). The first attempt trusts the replica (no network read);
 * after a refusal the log says what is latest and the replica catches up to it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { v7 as uuidv7, validate as isUuid } from 'uuid'
import { CredregError, isCredregError, VersionConflictError } from './errors.js'
import { StaleAppendError, type AbstractLog } from './log/abstract-log.js'
import { buildRecord, encodeRecord, type LogRecord } from './record.js'
import type { WriteRefusal } from './replica/follower.js'
import type { Replica } from './replica/replica.js'
import type { StoredEntity } from './replica/store.js'
import type { Sealer } from './seal.js'
import type { JsonObject, WriteOp, WriteResult } from './types.js'
import { serializeValue } from './value.js'
import { verdict, type VerdictContext } from './verdict.js'

/** What a write does to the current value: `undefined` current means absent or deleted. */
export interface WriteIntent {
  op: WriteOp
  /** The new value; a patch gets the current one (a put gets `undefined`). Not called for a delete. */
  apply?: (current: JsonObject | undefined) => JsonObject
  ifVersion?: number
  ifAbsent?: boolean
  correlationId?: string
}

export interface WriterOptions {
  log: AbstractLog
  replica: Replica
  sealer: Sealer
  namespace: string
  nodeId: string
  maxValueBytes: number
  timeoutMs: number
  /** Set when the log must not be written to now. */
  refusal: () => WriteRefusal | undefined
}

const RETRY_PAUSE_MS = 50
// How long a write waits for a (re)connecting log before it fails UNAVAILABLE:
// long enough to ride out a connect or a fail-over, short enough to never hang.
const CONNECT_GRACE_MS = 2000

export class Writer {
  readonly #o: WriterOptions
  readonly #verdict: VerdictContext

  constructor (options: WriterOptions) {
    this.#o = options
    // Whether a record in the log counts, as every replica decides it (for a record this replica never read).
    this.#verdict = { namespace: options.namespace, authenticator: options.replica.authenticator, sealer: options.sealer, legacy: false }
  }

  async write (key: string, intent: WriteIntent): Promise<WriteResult> {
    const { log, replica } = this.#o
    const correlationId = intent.correlationId ?? uuidv7()
    if (!isUuid(correlationId)) throw new CredregError('BAD_REQUEST', `correlationId must be a uuid, got ${JSON.stringify(correlationId)}`, { key })
    const deadline = Date.now() + this.#o.timeoutMs
    let head = await replica.head(key)
    let expectedSeq = head?.logSeq ?? head?.seq ?? 0
    // True once `head` comes from the log's own answer, not just the replica's view.
    let confirmed = false

    const refresh = async (): Promise<void> => {
      await this.#writable(deadline, key)
      const lastSeq = await log.lastSeqOf(key)
      await replica.waitForApplied(lastSeq, Math.max(1, deadline - Date.now()))
      head = await replica.head(key)
      // The latest record may have been refused by the replica (forged, malformed): build on it anyway.
      expectedSeq = lastSeq
      confirmed = true
    }

    for (;;) {
      await this.#writable(deadline, key)
      const current = live(head)
      const currentVersion = head?.version ?? 0
      const unmet = unmetCondition(intent, currentVersion, current !== undefined)
      if (unmet !== undefined) {
        // The replica may lag behind the log: only the log's answer makes a refusal final.
        if (confirmed || unmet === 'older') throw refusal(key, intent, unmet, currentVersion)
        await refresh()
        continue
      }
      const version = currentVersion + 1
      const record = this.#record(key, version, intent, current === undefined || intent.op !== 'patch' ? undefined : replica.unseal(key, current), correlationId)
      let seq: number
      try {
        // A message id of this record alone: a caller's correlation id may recur (on
        // other keys too), and a deduplicated append must only answer for this record.
        seq = await this.#appendWithRetry(key, record, expectedSeq, uuidv7(), deadline)
      } catch (err) {
        if (!(err instanceof StaleAppendError)) throw err
        await refresh()
        continue
      }
      await replica.waitForApplied(seq, Math.max(1, deadline - Date.now()))
      const outcome = await this.#outcome(key, version, seq, expectedSeq)
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
    for (let after = builtOn; ;) {
      const next = await log.recordAfter(key, after)
      if (next === undefined || next.seq > seq) return 'unknown'
      if (next.seq === seq) return 'applied'
      const decided = verdict(next, undefined, this.#verdict)
      if (decided.applied && decided.record.version === version) return 'refused'
      after = next.seq
    }
  }

  #record (key: string, version: number, intent: WriteIntent, current: JsonObject | undefined, correlationId: string): LogRecord {
    const head = { ns: this.#o.namespace, key, version, meta: { updatedAt: new Date().toISOString(), nodeId: this.#o.nodeId, correlationId } }
    const keys = { sealer: this.#o.sealer, authenticator: this.#o.replica.authenticator }
    if (intent.op === 'delete') return buildRecord(head, 'delete', undefined, keys)
    const value = (intent.apply as NonNullable<WriteIntent['apply']>)(current)
    return buildRecord(head, intent.op, serializeValue(value, this.#o.maxValueBytes, key), keys)
  }

  // A publish that timed out may have landed: retrying the same record with the
  // same message id either lands it once or returns the first landing. Each
  // attempt waits no longer than the write's deadline allows; once one went
  // unacknowledged, a failure after it is TIMEOUT (outcome unknown), never one
  // that says nothing was written.
  async #appendWithRetry (key: string, record: LogRecord, expectedLastSeq: number, msgId: string, deadline: number): Promise<number> {
    const data = encodeRecord(record)
    let unacknowledged = false
    for (;;) {
      try {
        return await this.#o.log.append(key, data, { expectedLastSeq, msgId, timeoutMs: Math.max(1, deadline - Date.now()) })
      } catch (err) {
        if (isCredregError(err, 'TIMEOUT')) unacknowledged = true
        const retry = err instanceof CredregError && err.retryable && this.#o.log.connected && Date.now() + RETRY_PAUSE_MS < deadline
        if (retry) {
          await sleep(RETRY_PAUSE_MS)
          continue
        }
        if (unacknowledged && !(err instanceof StaleAppendError)) {
          const message = `${key}: the write was not acknowledged within ${this.#o.timeoutMs} ms; it may still have been appended: read the key to see`
          throw new CredregError('TIMEOUT', message, { key, cause: err })
        }
        throw err
      }
    }
  }

  async #writable (deadline: number, key: string): Promise<void> {
    const refusal = this.#o.refusal()
    if (refusal !== undefined) throw new CredregError(refusal.code, `writes are refused: ${refusal.reason}`, { key })
    if (Date.now() >= deadline) throw new CredregError('TIMEOUT', `the write did not land within ${this.#o.timeoutMs} ms`, { key })
    if (this.#o.log.connected) return
    const grace = Math.min(CONNECT_GRACE_MS, deadline - Date.now())
    try {
      await this.#o.log.whenConnected(AbortSignal.timeout(Math.max(1, grace)))
    } catch {
      throw new CredregError('UNAVAILABLE', 'the change log (NATS) is not reachable; reads still work from the local replica', { key })
    }
  }
}

function refusal (key: string, intent: WriteIntent, unmet: Unmet, currentVersion: number): CredregError {
  if (unmet === 'missing') return new CredregError('NOT_FOUND', `${key} does not exist${currentVersion > 0 ? ` (deleted at version ${currentVersion})` : ''}`, { key })
  return new VersionConflictError(key, intent.ifVersion, currentVersion)
}

/** The head if it holds a value (not absent, not a tombstone). */
function live (head: StoredEntity | undefined): StoredEntity | undefined {
  return head !== undefined && head.op !== 'delete' ? head : undefined
}

/**
 * How the current state fails the write, if it does. `older`: the caller's
 * version is already superseded, final without asking the log; `conflict`:
 * another version or presence was expected; `missing`: nothing to patch or delete.
 */
type Unmet = 'older' | 'conflict' | 'missing'

function unmetCondition (intent: WriteIntent, currentVersion: number, exists: boolean): Unmet | undefined {
  if (intent.ifVersion !== undefined && intent.ifVersion !== currentVersion) return intent.ifVersion < currentVersion ? 'older' : 'conflict'
  if (intent.ifAbsent === true && exists) return 'conflict'
  if ((intent.op === 'patch' || intent.op === 'delete') && !exists) return 'missing'
  return undefined
}
