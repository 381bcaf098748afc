/**
 * Simulated members of a namespace, lightweight, many in one process: each
 * writes its membership record once an interval as a daemon does (signed
 * under the namespace key, a JetStream publish acknowledged by the stream, on
 * its own subject), their phases spread evenly over the interval as hosts
 * started at different times would be. They read nothing: a daemon reads
 * only when asked.
 */
import type { JetStreamClient } from '@nats-io/jetstream'
import type { Authenticator } from '../../lib/authenticator.js'
import { memberSubject, signHeartbeat } from '../../lib/peers/heartbeat-record.js'

const TICK_MS = 20

interface Member { nodeId: string, subject: string, startedAt: string, beat: number }

export class SimMembers {
  readonly #members: Member[] = []
  readonly #js: JetStreamClient
  readonly #auth: Authenticator
  readonly #namespace: string
  readonly #intervalMs: number
  readonly #appliedSeq: () => number
  readonly #timer: NodeJS.Timeout
  readonly #inFlight = new Set<Promise<unknown>>()
  #cursor = 0
  #owed = 0
  #failures = 0

  constructor (o: { js: JetStreamClient, auth: Authenticator, namespace: string, intervalMs: number, appliedSeq: () => number }) {
    this.#js = o.js
    this.#auth = o.auth
    this.#namespace = o.namespace
    this.#intervalMs = o.intervalMs
    this.#appliedSeq = o.appliedSeq
    this.#timer = setInterval(() => { this.#tick() }, TICK_MS)
  }

  get size (): number { return this.#members.length }

  /** Writes that failed (not acknowledged) so far. */
  get failures (): number { return this.#failures }

  /** Adds members up to `size`; each writes its first record at once, then in its turn. */
  async grow (size: number): Promise<void> {
    const startedAt = new Date().toISOString()
    const added: Member[] = []
    while (this.#members.length < size) {
      const nodeId = `sim-${this.#members.length}`
      const m = { nodeId, subject: memberSubject(this.#namespace, nodeId), startedAt, beat: 0 }
      this.#members.push(m)
      added.push(m)
    }
    for (let i = 0; i < added.length; i += 500) await Promise.all(added.slice(i, i + 500).map(async m => await this.#write(m)))
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#inFlight])
  }

  // Each tick writes the share of the members due in it, going round them in order.
  #tick (): void {
    const n = this.#members.length
    if (n === 0) return
    this.#owed += n * TICK_MS / this.#intervalMs
    while (this.#owed >= 1) {
      this.#owed--
      const m = this.#members[this.#cursor++ % n] as Member
      const p = this.#write(m).finally(() => this.#inFlight.delete(p))
      this.#inFlight.add(p)
    }
  }

  async #write (m: Member): Promise<void> {
    const seq = this.#appliedSeq()
    const record = signHeartbeat(this.#auth, {
      namespace: this.#namespace, nodeId: m.nodeId, hostname: m.nodeId, startedAt: m.startedAt, beat: ++m.beat, at: new Date().toISOString(), appliedSeq: seq, logSeq: seq, version: 'sim'
    })
    try {
      await this.#js.publish(m.subject, JSON.stringify(record), { timeout: 10_000 })
    } catch {
      this.#failures++
    }
  }
}
