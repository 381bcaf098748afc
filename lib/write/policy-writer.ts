/**
 * The write path of a policy version: a record the admin built and signed
 * (off the fleet: the admin key never reaches a host), which a node only
 * carries to the log. It is checked as every replica will decide it (signed
 * by the admin key in force, the next version of the policy) before anything
 * is appended, and appended conditional on the policy key's subject, as any
 * key's write is.
 */
import { v7 as uuidv7 } from 'uuid'
import { CredregError, VersionConflictError } from '../errors.js'
import { POLICY_KEY } from '../identity/policy.js'
import { StaleAppendError } from '../log/abstract-log.js'
import { checkKeyRecord, encodeRecord, type PolicyRecord } from '../records/record.js'
import type { Replica } from '../replica/replica.js'
import { subjectSeqOf, type StoredEntity } from '../replica/store.js'
import type { WriteResult } from '../types.js'
import { appendWithRetry, LogView, whenWritable, type WritePath } from './write-path.js'

export interface PolicyWriterOptions extends WritePath {
  replica: Replica
  namespace: string
}

export class PolicyWriter {
  readonly #o: PolicyWriterOptions

  constructor (options: PolicyWriterOptions) {
    this.#o = options
  }

  /**
   * Appends `input`, a policy record, once checked: `BAD_REQUEST` when it is
   * not one, `VERSION_CONFLICT` when it is not the next version, `FORBIDDEN`
   * when it is not signed by the admin key in force.
   */
  async write (input: unknown): Promise<WriteResult> {
    const { log, replica, namespace } = this.#o
    const checked = checkKeyRecord(input, POLICY_KEY, namespace)
    if (!checked.ok) throw new CredregError('BAD_REQUEST', `not a policy record: ${checked.detail}`, { key: POLICY_KEY })
    if (!('policy' in checked.record)) throw new CredregError('BAD_REQUEST', `not a policy record: ${POLICY_KEY} takes policy records only`, { key: POLICY_KEY })
    const record: PolicyRecord = checked.record
    const deadline = Date.now() + this.#o.timeoutMs
    const data = encodeRecord(record)
    // Decided on the replica first, which may lag behind the log: only once caught up is a refusal final.
    const logView = new LogView(this.#o, replica, deadline)
    let current: number
    let held: StoredEntity | undefined
    for (;;) {
      await whenWritable(this.#o, deadline, POLICY_KEY)
      const { appliedSeq, state } = await replica.stateFor({ ok: true, record })
      held = (await replica.view([POLICY_KEY])).heads[0]
      current = state.head(POLICY_KEY)?.version ?? 0
      const judged = replica.judge({ seq: appliedSeq + 1, key: POLICY_KEY, data }, state)
      if ((held?.version ?? 0) === current && record.version === current + 1 && judged.applied) break
      if (!logView.confirmed) {
        await logView.refresh()
        continue
      }
      if (record.version !== current + 1) throw new VersionConflictError(POLICY_KEY, record.version - 1, current)
      if (!judged.applied) throw new CredregError('FORBIDDEN', `the policy would be refused (${judged.reason}): ${judged.detail}`, { key: POLICY_KEY })
    }

    let seq: number
    try {
      seq = await appendWithRetry(this.#o, POLICY_KEY, deadline, async timeoutMs =>
        await log.append(POLICY_KEY, data, { expectedLastSeq: held === undefined ? 0 : subjectSeqOf(held), msgId: uuidv7(), timeoutMs }), POLICY_KEY)
    } catch (err) {
      if (!(err instanceof StaleAppendError)) throw err
      // Another version landed since the check: say which, once caught up with it.
      await replica.waitForApplied(await log.lastSeq(), Math.max(1, deadline - Date.now()))
      throw new VersionConflictError(POLICY_KEY, record.version - 1, (await replica.head(POLICY_KEY))?.version ?? current)
    }
    await replica.waitForApplied(seq, Math.max(1, deadline - Date.now()))
    if (replica.outcomeOf(seq) === false) {
      // Another version came first at the same place (a clustered stream let both through).
      throw new VersionConflictError(POLICY_KEY, record.version - 1, (await replica.head(POLICY_KEY))?.version ?? current)
    }
    return { key: POLICY_KEY, version: record.version, seq, created: current === 0, correlationId: record.meta.correlationId }
  }
}
