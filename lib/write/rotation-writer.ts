/**
 * The write path of a rotation's decisions: a host's acknowledgement, the
 * release, the abort. Each is a transaction record whose verdict every
 * replica computes alike from log order (lib/verdict.ts); the writer first
 * decides it on its own replica's state, so a decision that would be refused
 * (the rotation closed, acknowledgements missing, a staged key moved) fails
 * before anything is appended, with the verdict's reason. A release is
 * appended conditional on the log's last sequence, like a changeset, so it
 * lands only on the state it was checked in.
 */
import { v7 as uuidv7, validate as isUuid } from 'uuid'
import type { ChangesetWriterOptions, CommitOptions } from './changeset-writer.js'
import { CredregError } from '../errors.js'
import { StaleAppendError } from '../log/abstract-log.js'
import { encodeRecord } from '../records/record.js'
import { buildDecision, MAX_ACK_MESSAGE } from '../records/rotation-record.js'
import { appendWithRetry, correlationIdOf, LogView, whenWritable } from './write-path.js'

/** A decision on a rotation, as a caller makes it. */
export type Decision =
  | { op: 'ack', ok: boolean, message?: string }
  | { op: 'release', forced: boolean }
  | { op: 'abort', reason?: string }

export class RotationWriter {
  readonly #o: ChangesetWriterOptions

  constructor (options: ChangesetWriterOptions) {
    this.#o = options
  }

  /** Appends `decision` on rotation `rotation`; resolves with its sequence once applied locally. */
  async decide (rotation: string, decision: Decision, options: CommitOptions = {}): Promise<{ id: string, seq: number }> {
    if (typeof rotation !== 'string' || !isUuid(rotation)) throw new CredregError('BAD_REQUEST', `a rotation id is a uuid, got ${JSON.stringify(rotation)}`)
    const { log, replica } = this.#o
    const correlationId = correlationIdOf(options.correlationId)
    const made = cut(decision)
    const deadline = Date.now() + this.#o.timeoutMs
    const logView = new LogView(this.#o, replica, deadline)

    for (;;) {
      await whenWritable(this.#o, deadline)
      // An ack needs the host granted at all; a release or an abort, the right to decide rotations
      // (a release, to write the keys it makes current too).
      const staged = decision.op === 'release' ? (await replica.rotation(rotation))?.changes.map(c => c.key) ?? [] : []
      const denied = replica.access.forbidden(this.#o.nodeId, staged, decision.op !== 'ack')
      if (denied !== undefined) throw denied
      const id = uuidv7()
      const meta = { updatedAt: new Date().toISOString(), nodeId: this.#o.nodeId, correlationId }
      const record = buildDecision(this.#o.namespace, id, meta, { ...made, rotation }, replica.access.recordKeys())
      const data = encodeRecord(record)
      const { appliedSeq, state } = await replica.stateFor({ ok: true, record })
      const judged = replica.judge({ seq: appliedSeq + 1, key: undefined, transaction: id, data }, state)
      if (!judged.applied) {
        // This replica may lag behind the log: only the log's state makes a refusal final.
        if (!logView.confirmed) {
          await logView.refresh()
          continue
        }
        if (judged.reason === 'no-such-rotation') throw new CredregError('NOT_FOUND', `no rotation ${rotation} was staged`)
        throw new CredregError('ROTATION_REFUSED', `the ${decision.op} is refused: ${judged.detail}`)
      }
      let seq: number
      try {
        // A release must land on the state it was checked in; an ack or abort counts wherever it lands while the rotation is open.
        const expected = decision.op === 'release' ? { expectedLogSeq: appliedSeq } : {}
        seq = await appendWithRetry(this.#o, `${decision.op} of rotation ${rotation}`, deadline, async timeoutMs =>
          await log.appendTransaction(id, data, { ...expected, msgId: id, timeoutMs }))
      } catch (err) {
        if (!(err instanceof StaleAppendError)) throw err
        await logView.refresh()
        continue
      }
      await replica.waitForApplied(seq, Math.max(1, deadline - Date.now()))
      const applied = replica.outcomeOf(seq) ?? await this.#heldAt(rotation, seq)
      if (applied === true) return { id, seq }
      if (applied === false) {
        // Something came first that this replica had not applied yet: decide again on it.
        await logView.refresh()
        continue
      }
      throw new CredregError('TIMEOUT', `the ${decision.op} of rotation ${rotation} was appended at sequence ${seq}, but whether it counts cannot be told any more: see the rotation's status`)
    }
  }

  // For a record read too long ago to be remembered: the rotation's state says whether it counted.
  async #heldAt (rotation: string, seq: number): Promise<boolean | undefined> {
    const held = await this.#o.replica.rotation(rotation)
    if (held === undefined) return undefined
    return held.closed?.seq === seq || Object.values(held.acks).some(a => a.seq === seq) ? true : undefined
  }
}

// An acknowledgement carries a test's output: cut to what a record holds, saying so.
function cut (decision: Decision): Decision {
  if (decision.op === 'ack' && decision.message !== undefined && decision.message.length > MAX_ACK_MESSAGE) {
    return { ...decision, message: `${decision.message.slice(0, MAX_ACK_MESSAGE - 20)}… (cut to fit)` }
  }
  if (decision.op === 'abort' && decision.reason !== undefined && decision.reason.length > MAX_ACK_MESSAGE) {
    return { ...decision, reason: `${decision.reason.slice(0, MAX_ACK_MESSAGE - 20)}… (cut to fit)` }
  }
  return decision
}
