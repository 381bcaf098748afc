/**
 * The write path of a changeset: several keys written all or none, as one
 * transaction record at one log sequence (docs/writer.md).
 *
 * A changeset has no key subject to be conditional on: its append is
 * conditional on the log's last sequence instead, the one the writer's
 * replica had applied when it read every key's state. So an honest changeset
 * lands only on the very state its conditions were checked in, and every
 * replica's verdict then applies it (each key at its next version, so
 * versions stay gapless per key). When the log moved on, the writer catches
 * up with it and decides again; a condition that then fails is final.
 */
import { v7 as uuidv7 } from 'uuid'
import { conditionError, live, unmetCondition, type Condition } from './conditions.js'
import { checkChanges } from './check-changes.js'
import { ChangesetError, CredregError, keyFailureOf } from '../errors.js'
import { StaleAppendError } from '../log/abstract-log.js'
import { applyJsonPatch, applyMergePatch } from '../patch.js'
import { encodeRecord, maxRecordBytes, type RecordMeta } from '../records/record.js'
import { buildStage, type StageRecord } from '../records/rotation-record.js'
import type { Replica } from '../replica/replica.js'
import type { StoredEntity } from '../replica/store.js'
import type { Change, CommitResult } from '../shapes/changeset.js'
import { buildChangeset, type ChangesetRecord, type PlainChange } from '../records/transaction-record.js'
import type { JsonObject } from '../types.js'
import { serializeValue } from '../value.js'
import { appendWithRetry, correlationIdOf, LogView, whenWritable, type WritePath } from './write-path.js'

export interface ChangesetWriterOptions extends WritePath {
  replica: Replica
  namespace: string
  nodeId: string
  maxValueBytes: number
}

/** Options of a commit. */
export interface CommitOptions {
  /** Correlation id (uuid) to carry in the record; generated when absent. */
  correlationId?: string
}

/** Options of a stage: who must acknowledge, and until when. */
export interface StageOptions extends CommitOptions {
  hosts: string[]
  /** ISO-8601 time after which any node aborts the rotation if it is still open. */
  deadline?: string
}

/** A key that fails the changeset, and whether that is final before the writer has caught up with the log. */
interface Failure { key: string, err: CredregError, final: boolean }

/** What the changes become on the state read: the record's changes and the answer, or why not. */
interface Plan { changes: PlainChange[], results: CommitResult['results'], failures: Failure[] }

export class ChangesetWriter {
  readonly #o: ChangesetWriterOptions

  constructor (options: ChangesetWriterOptions) {
    this.#o = options
  }

  /** Writes every change or none; resolves once the local replica applied them. */
  async commit (input: unknown, options: CommitOptions = {}): Promise<CommitResult> {
    const { namespace, replica } = this.#o
    const landed = await this.#land(checkChanges(input), options, false, (id, meta, changes) =>
      buildChangeset(namespace, id, meta, changes, replica.access.recordKeys()))
    return { id: landed.id, seq: landed.seq, correlationId: landed.correlationId, results: landed.results }
  }

  /**
   * Stages the changes as a rotation waiting for `hosts` (until `deadline`,
   * when given): planned on the current state like a changeset, but held back
   * until released. Resolves with the rotation's id, once applied locally.
   */
  async stage (input: unknown, options: StageOptions): Promise<{ id: string, seq: number }> {
    const { namespace, replica } = this.#o
    const { hosts, deadline } = options
    return await this.#land(checkChanges(input), options, true, (id, meta, changes) =>
      buildStage(namespace, id, meta, changes, hosts, deadline, replica.access.recordKeys()))
  }

  /**
   * Plans `changes` on the replica's state, checks the record with the
   * replica's own verdict, appends it conditional on the log's last sequence,
   * and waits for the replica to apply it; decides again on a log that moved.
   * `rotation`: a stage, which the policy must let this host make.
   */
  async #land (changes: Change[], options: CommitOptions, rotation: boolean, build: (id: string, meta: RecordMeta, changes: PlainChange[]) => ChangesetRecord | StageRecord): Promise<CommitResult> {
    const { log, replica } = this.#o
    const correlationId = correlationIdOf(options.correlationId)
    const deadline = Date.now() + this.#o.timeoutMs
    const keys = changes.map(c => c.key)
    const logView = new LogView(this.#o, replica, deadline)

    for (;;) {
      await whenWritable(this.#o, deadline)
      // What every replica would refuse under the policy this one holds is refused here, before anything is sent.
      const denied = replica.access.forbidden(this.#o.nodeId, keys, rotation)
      if (denied !== undefined) throw denied
      const view = await replica.view(keys)
      const plan = this.#plan(changes, view.heads)
      if (plan.failures.length > 0) {
        if (!logView.confirmed && plan.failures.some(f => !f.final)) {
          await logView.refresh()
          continue
        }
        throw new ChangesetError(plan.failures.map(f => keyFailureOf(f.key, f.err)))
      }
      const id = uuidv7()
      const record = build(id, { updatedAt: new Date().toISOString(), nodeId: this.#o.nodeId, correlationId }, plan.changes)
      const data = encodeRecord(record)
      const limit = maxRecordBytes(this.#o.maxValueBytes)
      if (data.byteLength > limit) {
        throw new CredregError('VALUE_TOO_LARGE', `the ${record.op} takes ${data.byteLength} bytes in the log, over the ${limit} one record may take: ` +
          `its values together must stay under about ${this.#o.maxValueBytes} bytes (maxValueBytes); split it`)
      }
      // What every replica will decide, decided here first on the same state (a key staged by an open rotation).
      const { appliedSeq, state } = await replica.stateFor({ ok: true, record })
      if (appliedSeq !== view.appliedSeq) continue
      const judged = replica.judge({ seq: appliedSeq + 1, key: undefined, transaction: id, data }, state)
      if (!judged.applied) {
        // A key that moved between the two reads (an apply landing in between) is planned again;
        // only what the plan cannot see (a key staged by an open rotation) is final, once confirmed.
        const staged = judged.reason === 'key-staged' || judged.reason === 'rotation-exists'
        if (!logView.confirmed || !staged) {
          await logView.refresh()
          continue
        }
        throw new CredregError('ROTATION_REFUSED', `the ${record.op} would be refused: ${judged.detail}`)
      }
      let seq: number
      try {
        seq = await appendWithRetry(this.#o, `${record.op} ${id}`, deadline, async timeoutMs =>
          await log.appendTransaction(id, data, { expectedLogSeq: view.appliedSeq, msgId: id, timeoutMs }))
      } catch (err) {
        if (!(err instanceof StaleAppendError)) throw err
        // The log moved on since the state was read: catch up, and decide again there.
        await logView.refresh()
        continue
      }
      await replica.waitForApplied(seq, Math.max(1, deadline - Date.now()))
      const outcome = await this.#outcome(seq, id, record.op === 'stage' ? undefined : plan.changes[0])
      if (outcome === 'refused') {
        // Another record came first at a position this writer's check could not see (a clustered
        // stream can let two conditional publishes through): every replica refused this one.
        await logView.refresh()
        continue
      }
      if (outcome === 'unknown') {
        throw new CredregError('TIMEOUT', `${record.op} ${id} was appended at sequence ${seq}, but whether it counts cannot be told any more ` +
          '(this replica read too much since): read its keys to see')
      }
      return { id, seq, correlationId, results: plan.results }
    }
  }

  /** Each change on the state read: its next version and value, or why it fails. */
  #plan (changes: Change[], heads: Array<StoredEntity | undefined>): Plan {
    const plan: Plan = { changes: [], results: [], failures: [] }
    changes.forEach((change, i) => {
      const { key } = change
      const head = heads[i]
      const current = live(head)
      const currentVersion = head?.version ?? 0
      const condition: Condition = {
        op: change.op === 'merge' ? 'patch' : change.op,
        ...(change.ifVersion !== undefined ? { ifVersion: change.ifVersion } : {}),
        ...(change.ifAbsent === true ? { ifAbsent: true } : {})
      }
      const unmet = unmetCondition(condition, currentVersion, current !== undefined)
      if (unmet !== undefined) {
        plan.failures.push({ key, err: conditionError(key, condition, unmet, currentVersion), final: unmet === 'older' })
        return
      }
      let plaintext: Buffer | undefined
      try {
        plaintext = change.op === 'delete' ? undefined : serializeValue(this.#valueOf(change, current), this.#o.maxValueBytes, key)
      } catch (err) {
        if (!(err instanceof CredregError)) throw err
        // A put's value fails whatever the state; a patch's may pass on a newer one.
        plan.failures.push({ key, err, final: change.op === 'put' })
        return
      }
      const version = currentVersion + 1
      plan.changes.push({ key, version, op: condition.op, ...(plaintext !== undefined ? { plaintext } : {}) })
      plan.results.push({ key, version, created: current === undefined })
    })
    return plan
  }

  #valueOf (change: Exclude<Change, { op: 'delete' }>, current: StoredEntity | undefined): JsonObject {
    if (change.op === 'put') return change.value
    const { key } = change
    const value = current === undefined ? {} : this.#o.replica.unseal(key, current) ?? {}
    const limits = { key, maxValueBytes: this.#o.maxValueBytes }
    return change.op === 'patch' ? applyJsonPatch(value, change.ops, limits) : applyMergePatch(value, change.patch, limits)
  }

  /**
   * Whether the changeset at `seq` counts: this replica's verdict on it. A
   * changeset is never deleted by the per-key limit, so the replica read it;
   * only one read more than the replica remembers of ago is looked up in
   * what it holds (a version of the first key written by this changeset).
   */
  async #outcome (seq: number, id: string, first: PlainChange | undefined): Promise<'applied' | 'refused' | 'unknown'> {
    const { replica } = this.#o
    const seen = replica.outcomeOf(seq)
    if (seen !== undefined) return seen ? 'applied' : 'refused'
    if (first === undefined) return (await replica.rotation(id)) === undefined ? 'refused' : 'applied'
    const held = await replica.storedVersion(first.key, first.version)
    if (held === undefined) return 'unknown'
    return held.changeset?.id === id ? 'applied' : 'refused'
  }
}
