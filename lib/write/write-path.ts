/**
 * What every write (a key's, a changeset) does around its append: waits for a
 * writable log within its deadline, and retries an append that may have
 * landed under the same message id.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { v7 as uuidv7, validate as isUuid } from 'uuid'
import { CredregError, isCredregError } from '../errors.js'
import { StaleAppendError, SubjectRefusedError, type AbstractLog } from '../log/abstract-log.js'
import type { WriteRefusal } from '../replica/follower.js'
import type { Replica } from '../replica/replica.js'
import type { TimingHook } from '../timings/stages.js'

/** The log a write goes to, and how long it may take. */
export interface WritePath {
  log: AbstractLog
  /** Bound of one write, including waiting for the local apply. */
  timeoutMs: number
  /** Set when the log must not be written to now. */
  refusal: () => WriteRefusal | undefined
  /** Receives the stages of each write, when timed. */
  timings?: TimingHook
}

const RETRY_PAUSE_MS = 50
// How long a write waits for a (re)connecting log before it fails UNAVAILABLE:
// long enough to ride out a connect or a fail-over, short enough to never hang.
const CONNECT_GRACE_MS = 2000

/** The caller's correlation id (checked: a uuid, else `BAD_REQUEST`), or a new one. */
export function correlationIdOf (given: string | undefined, key?: string): string {
  const correlationId = given ?? uuidv7()
  if (!isUuid(correlationId)) throw new CredregError('BAD_REQUEST', `correlationId must be a uuid, got ${JSON.stringify(correlationId)}`, key === undefined ? {} : { key })
  return correlationId
}

/**
 * Where a transaction's writer stands against the log: it decides on its own
 * replica's state first, which may lag; `refresh` catches the replica up with
 * the log's last sequence, after which what it decides is `confirmed` (final).
 */
export class LogView {
  #confirmed = false
  readonly #path: WritePath
  readonly #replica: Replica
  readonly #deadline: number

  constructor (path: WritePath, replica: Replica, deadline: number) {
    this.#path = path
    this.#replica = replica
    this.#deadline = deadline
  }

  /** Whether the replica has caught up with the log since the write began: its state is the log's own. */
  get confirmed (): boolean {
    return this.#confirmed
  }

  /** Waits for the replica to apply through the log's last sequence (within the write's deadline). */
  async refresh (): Promise<void> {
    await whenWritable(this.#path, this.#deadline)
    await this.#replica.waitForApplied(await this.#path.log.lastSeq(), Math.max(1, this.#deadline - Date.now()))
    this.#confirmed = true
  }
}

/** Resolves once the log takes writes; throws the refusal, `TIMEOUT` past `deadline`, or `UNAVAILABLE`. */
export async function whenWritable (path: WritePath, deadline: number, key?: string): Promise<void> {
  const where = key === undefined ? {} : { key }
  const refusal = path.refusal()
  if (refusal !== undefined) throw new CredregError(refusal.code, `writes are refused: ${refusal.reason}`, where)
  if (Date.now() >= deadline) throw new CredregError('TIMEOUT', `the write did not land within ${path.timeoutMs} ms`, where)
  if (path.log.connected) return
  const grace = Math.min(CONNECT_GRACE_MS, deadline - Date.now())
  try {
    await path.log.whenConnected(AbortSignal.timeout(Math.max(1, grace)))
  } catch {
    throw new CredregError('UNAVAILABLE', 'the change log (NATS) is not reachable; reads still work from the local replica', where)
  }
}

/**
 * Runs `append` (one attempt, given how long it may wait) until it lands or
 * fails for good. A publish that timed out may have landed: the same record
 * under the same message id either lands once or returns the first landing.
 * Once an attempt went unacknowledged, a failure after it is `TIMEOUT`
 * (outcome unknown), never one that says nothing was written.
 */
export async function appendWithRetry (path: WritePath, what: string, deadline: number, append: (timeoutMs: number) => Promise<number>, key?: string): Promise<number> {
  let unacknowledged = false
  for (;;) {
    try {
      return await append(Math.max(1, deadline - Date.now()))
    } catch (err) {
      if (isCredregError(err, 'TIMEOUT')) unacknowledged = true
      const retry = err instanceof CredregError && err.retryable && !(err instanceof SubjectRefusedError) && path.log.connected && Date.now() + RETRY_PAUSE_MS < deadline
      if (retry) {
        await sleep(RETRY_PAUSE_MS)
        continue
      }
      if (unacknowledged && !(err instanceof StaleAppendError)) {
        const message = `${what}: the write was not acknowledged within ${path.timeoutMs} ms; it may still have been appended: read the key to see`
        throw new CredregError('TIMEOUT', message, { ...(key === undefined ? {} : { key }), cause: err })
      }
      throw err
    }
  }
}
