/**
 * Follows the change log into the replica: checks that the log is the one the
 * replica was built from, then reads from applied + 1 and applies in order.
 * Any connection change ends the read, so identity is checked again before a
 * single record of a possibly recreated log is applied (docs/follower.md).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError, isCredregError } from '../errors.js'
import type { AbstractLog, LogInfo } from '../log/abstract-log.js'
import type { Logger, ReseedResult } from '../types.js'
import { decodeEntry } from '../records/decode-entry.js'
import { contribute, type Contribution } from './contribute.js'
import type { Replica } from './replica.js'
import { seqKey } from './store.js'
import type { ApplyClock } from '../timings/apply-clock.js'

/** Why and since when the node refuses the log. */
export interface Divergence { reason: string, since: string }

/** Why writes must not go ahead right now, when they must not. */
export interface WriteRefusal { code: 'LOG_DIVERGED' | 'UNAVAILABLE', reason: string }

const RECHECK_MS = 2000
// How far above the reseeding replica's applied sequence a reseeded log starts: sequences
// keep growing across a reseed for every replica that was not this far ahead of it.
const RESEED_SEQ_GAP = 1_000_000
const STOP_GRACE_MS = 3000
const STALL_CHECK_MS = 1000
// A status call must answer promptly even when the log is slow: past this, the last known sequence stands.
const STATUS_INFO_MS = 500

export class Follower {
  readonly #log: AbstractLog
  readonly #replica: Replica
  readonly #logger: Logger | undefined
  readonly #clock: ApplyClock | undefined
  readonly #stop = new AbortController()
  #running: Promise<void> | undefined
  #read: AbortController | undefined
  #diverged: Divergence | undefined
  #logSeq = 0
  #watchdog: NodeJS.Timeout | undefined
  #lastCheckedApplied = -1
  #stalls = 0
  // Adopting a reseeded log, from the follow loop or an explicit reseed: one at a time.
  #adoption: Promise<Contribution> | undefined
  #wake = new AbortController()
  // Whether the missing authentic identity was reported already (once, not at every check).
  #unverified = false

  /** `clock`, when given, times each apply batch. */
  constructor (log: AbstractLog, replica: Replica, logger?: Logger, clock?: ApplyClock) {
    this.#log = log
    this.#replica = replica
    this.#logger = logger
    this.#clock = clock
  }

  get diverged (): Divergence | undefined { return this.#diverged }

  /** Why a write must not be appended now: a foreign log, or a reseeded one this replica is still taking on. */
  get writeRefusal (): WriteRefusal | undefined {
    if (this.#adoption !== undefined) return { code: 'UNAVAILABLE', reason: 'this node is taking on a reseeded change log; try again shortly' }
    if (this.#diverged !== undefined) return { code: 'LOG_DIVERGED', reason: this.#diverged.reason }
    const until = this.#replica.rebaseUntil
    if (until > this.#replica.appliedSeq) return { code: 'UNAVAILABLE', reason: `this node is re-reading a reseeded change log (sequence ${this.#replica.appliedSeq} of ${until}); try again shortly` }
    return undefined
  }

  /** The newest log sequence seen (from the log's info or the records read). */
  get logSeq (): number { return Math.max(this.#logSeq, this.#replica.appliedSeq) }

  /** Asks the log for its last sequence (when reachable), so lag is current rather than as of the last read. */
  async refreshLogSeq (): Promise<number> {
    if (this.#log.connected && this.#diverged === undefined) {
      try {
        const info = await Promise.race([this.#log.info(), sleep(STATUS_INFO_MS).then(() => undefined)])
        if (info !== undefined) this.#logSeq = Math.max(this.#logSeq, info.lastSeq)
      } catch {
        // Unreachable right now: the last known sequence stands.
      }
    }
    return this.logSeq
  }

  start (): void {
    // A reconnect may lead to another server or a recreated stream: read again, from a fresh identity check.
    this.#log.onConnection(() => this.#read?.abort())
    this.#running = this.#loop()
    this.#watchdog = setInterval(() => { void this.#checkProgress() }, STALL_CHECK_MS)
    this.#watchdog.unref()
  }

  // A read can stall without any connection change: a consumer lost with the
  // server that held it (a cluster fail-over) is not always noticed by the
  // client. When the log is ahead and nothing was applied for two checks in a
  // row, the read starts over from the replica's own cursor.
  async #checkProgress (): Promise<void> {
    const applied = this.#replica.appliedSeq
    const behind = (await this.refreshLogSeq()) > applied
    if (behind && applied === this.#lastCheckedApplied) {
      this.#stalls++
      if (this.#stalls >= 2) {
        this.#logger?.warn({ appliedSeq: applied, logSeq: this.logSeq }, 'reading the change log stalled; starting the read again')
        this.#stalls = 0
        this.#read?.abort()
      }
    } else {
      this.#stalls = 0
    }
    this.#lastCheckedApplied = applied
  }

  async stop (): Promise<void> {
    clearInterval(this.#watchdog)
    this.#clock?.stop()
    this.#stop.abort()
    this.#read?.abort()
    // A read stuck in the NATS client (a consumer being set up against a cluster
    // without a leader) must not hold a close hostage; a batch arriving later fails
    // against the closed database and the loop ends (it checks the stop signal).
    await Promise.race([this.#running, sleep(STOP_GRACE_MS)])
  }

  async #loop (): Promise<void> {
    const stop = this.#stop.signal
    while (!stop.aborted) {
      try {
        await this.#log.whenConnected(stop)
        await this.#checkIdentity()
        if (this.#diverged !== undefined) {
          // A reseed on this node wakes the loop at once.
          await sleep(RECHECK_MS, undefined, { signal: AbortSignal.any([stop, this.#wake.signal]) }).catch(() => {})
          continue
        }
        this.#read = new AbortController()
        const signal = AbortSignal.any([stop, this.#read.signal])
        for await (const batch of this.#log.read(this.#replica.appliedSeq + 1, signal)) {
          this.#clock?.start(batch)
          await this.#replica.apply(batch)
          this.#clock?.end()
          this.#logSeq = Math.max(this.#logSeq, batch.at(-1)?.seq ?? 0)
        }
      } catch (err) {
        if (stop.aborted) return
        if (isCredregError(err, 'LOG_DIVERGED')) this.#diverge(err.message)
        else this.#logger?.warn({ err }, 'reading the change log failed; retrying')
        await sleep(this.#diverged === undefined ? 250 : RECHECK_MS, undefined, { signal: stop }).catch(() => {})
      }
    }
  }

  async #checkIdentity (): Promise<void> {
    const known = this.#replica.identity
    const info = await this.#log.info({ create: known === undefined, ...(known !== undefined ? { known } : {}) })
    this.#logSeq = info.lastSeq
    if (known === undefined) {
      if (info.identity === undefined) {
        throw new CredregError('UNAVAILABLE', 'the change log holds records but no identity record that can be read: a replica cannot be built from it yet')
      }
      await this.#replica.setIdentity(info.identity, info.lineage)
    } else if (info.identity !== known && !info.verified) {
      // Anyone who may publish can write an untagged identity, or push the real one out:
      // that is never grounds to refuse the log (the sequence checks below still hold).
      if (!this.#unverified) {
        this.#logger?.warn({ identity: known, found: info.identity ?? null }, 'the change log holds no authentic identity record; following it as the history this replica was built from')
      }
      this.#unverified = true
    } else if (known !== info.identity) {
      if (!info.lineage.includes(known)) {
        return this.#diverge(`the change log is ${info.identity}, but this replica was built from ${known}: the stream was deleted and recreated`)
      }
      if (info.base <= this.#replica.appliedSeq) {
        return this.#diverge(`the change log ${info.identity} continues this replica's history from sequence ${info.base}, but this replica has applied up to ${this.#replica.appliedSeq}: ` +
          'it was reseeded from a replica far behind this one; reseed from this one instead (after deleting that stream)')
      }
      await this.#adopt(info)
    }
    if (known !== undefined && known === this.#replica.identity) {
      if (info.lastSeq < this.#replica.appliedSeq) {
        return this.#diverge(`the change log ends at sequence ${info.lastSeq}, but this replica has applied ${this.#replica.appliedSeq}: the stream lost records`)
      }
      if (!await this.#sameRecordAtApplied()) {
        return this.#diverge(`the record at sequence ${this.#replica.appliedSeq} is not the one this replica applied there: the stream lost records and was written over`)
      }
    }
    if (this.#diverged !== undefined) this.#logger?.info({ identity: info.identity }, 'the change log matches this replica again')
    this.#diverged = undefined
  }

  // A log that lost its newest records and then took new ones can be as long
  // as before: the record at the applied sequence tells. (Unknowable when the
  // per-key limit deleted it since, or the replica refused it: then it passes.)
  async #sameRecordAtApplied (): Promise<boolean> {
    const applied = this.#replica.appliedSeq
    if (applied === 0) return true
    // A key's record, or the first change of a changeset.
    const [single, first] = await this.#replica.store.changes.getMany([seqKey(applied), seqKey(applied, 0)])
    const ref = single ?? first
    if (ref === undefined) return true
    const entry = await this.#log.recordAt(applied)
    if (entry === undefined) return true
    const decoded = decodeEntry(entry, this.#replica.namespace)
    if (!decoded.ok) return false
    const { record } = decoded
    // A release writes what its rotation staged.
    const changes = record.op === 'release' ? (await this.#replica.store.rotations.get(record.rotation))?.changes : 'changes' in record ? record.changes : undefined
    const written = 'key' in record ? record : changes?.[0]
    return written?.key === ref.key && written.version === ref.version
  }

  /**
   * Restores the change log from this replica after the log lost its store
   * (see docs/guarantees.md): starts a new history that continues the
   * replica's, contributes every version the replica holds, and takes the new
   * log on. Every other replica of the same history then adopts it by itself.
   */
  async reseed (): Promise<ReseedResult> {
    const previous = this.#replica.identity
    if (previous === undefined) throw new CredregError('RESEED_REFUSED', 'this replica was never built from a change log: there is nothing to reseed from')
    let contributed: Contribution
    if (this.#adoption !== undefined) {
      // Another node reseeded first and this one is taking that log on already.
      contributed = await this.#adoption
    } else {
      if (this.#diverged === undefined) throw new CredregError('RESEED_REFUSED', `the change log matches this replica (${previous}): nothing to reseed`)
      if (!this.#log.connected) throw new CredregError('UNAVAILABLE', 'the change log (NATS) is not reachable: a reseed needs it')
      const policy = this.#replica.policy
      if (policy !== undefined && policy.host(this.#replica.access.publicKey)?.write.includes('') !== true) {
        // It signs every version it carries into the new log: the policy must let it write them all.
        throw new CredregError('RESEED_REFUSED', `under policy version ${policy.version} a reseed re-signs every version as the reseeding host: reseed from a host granted write on every key (write "")`)
      }
      const info = await this.#log.reseed({ identity: previous, lineage: this.#replica.lineage, base: this.#replica.appliedSeq + RESEED_SEQ_GAP })
      contributed = await this.#adopt(info)
      this.#diverged = undefined
      this.#wake.abort()
      this.#wake = new AbortController()
    }
    return { identity: this.#replica.identity as string, previous, keys: contributed.keys, versions: contributed.versions, rebaseUntil: this.#replica.rebaseUntil }
  }

  // Contribute first, then take the new log on: a crash in between leaves the
  // old identity in place and the whole adoption runs again (contributing is idempotent).
  async #adopt (info: LogInfo): Promise<Contribution> {
    if (this.#adoption !== undefined) return await this.#adoption
    const identity = info.identity
    if (identity === undefined || !info.verified) throw new CredregError('UNAVAILABLE', 'the reseeded change log has no authentic identity record yet; try again')
    const run = (async () => {
      this.#logger?.warn({ identity, continues: this.#replica.identity }, 'the change log was reseeded from a replica of this history: contributing this replica and taking it on')
      const contributed = await contribute(this.#log, this.#replica, this.#logger)
      const { lastSeq } = await this.#log.info()
      await this.#replica.rebase(identity, info.lineage, lastSeq)
      this.#logSeq = lastSeq
      this.#logger?.warn({ identity, ...contributed, rebaseUntil: lastSeq }, 'took on the reseeded change log; reading it')
      return contributed
    })()
    this.#adoption = run
    try {
      return await run
    } finally {
      this.#adoption = undefined
    }
  }

  #diverge (reason: string): void {
    if (this.#diverged?.reason !== reason) {
      this.#logger?.error({ reason }, 'refusing the change log: it is not the one this replica was built from; writes are refused, reads serve the replica')
      this.#diverged = { reason, since: new Date().toISOString() }
    }
  }
}
