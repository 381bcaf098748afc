/**
 * The identity record of a JetStream change log, kept in the stream itself on
 * its own subject. The stream's creation time would not do: in a cluster each
 * member stamps its own. Writes are conditional on the subject's latest
 * sequence, so of nodes writing at once exactly one wins and all read the same.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CredregError } from '../errors.js'
import { decodeIdentity, encodeIdentity, type IdentityRecord } from './identity.js'
import { unavailable } from './nats-errors.js'

// Reading an identity record that another node is about to write: a few tries, a little apart.
const ATTEMPTS = 10
const RETRY_MS = 200

/** The identity record as read, with its sequence (for a conditional replacement). */
export interface IdentityAt { record: IdentityRecord, seq: number }

export class StreamIdentity {
  readonly #stream: string
  readonly #subject: string

  constructor (stream: string, subject: string) {
    this.#stream = stream
    this.#subject = subject
  }

  /** The name of the history a record identifies: `<stream>@<id>`. */
  name (record: IdentityRecord): string {
    return `${this.#stream}@${record.id}`
  }

  /**
   * The stream's identity. Only a node that may create the stream (its
   * replica is empty) writes one when there is none: a replica built from a
   * history must never stamp an identity on a stream it did not create (a
   * reseed in progress writes its own in a moment), so it waits for one.
   */
  async get (jsm: JetStreamManager, js: JetStreamClient, mayWrite: boolean): Promise<IdentityRecord> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(jsm)
      if (current !== undefined) return current.record
      if (mayWrite) await this.write(js, { id: randomUUID(), lineage: [] }, 0)
      else await sleep(RETRY_MS)
    }
    throw new CredregError('UNAVAILABLE', `the identity of stream ${this.#stream} could not be read`)
  }

  /** Waits a little for an identity record another node is writing; `undefined` if none comes. */
  async await (jsm: JetStreamManager): Promise<IdentityAt | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(jsm)
      if (current !== undefined) return current
      await sleep(RETRY_MS)
    }
    return undefined
  }

  async read (jsm: JetStreamManager): Promise<IdentityAt | undefined> {
    let m
    try {
      m = await jsm.streams.getMessage(this.#stream, { last_by_subj: this.#subject })
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined
      throw unavailable(err, 'reading the stream identity failed')
    }
    if (m === null) return undefined
    const record = decodeIdentity(m.string())
    // Unreadable: a name no replica was built from, so every node refuses it rather than guess.
    return { record: record ?? { id: `unreadable-${m.seq}`, lineage: [] }, seq: m.seq }
  }

  /** Writes `record` if the identity subject's latest record is still at `expectedSeq`; false when another node wrote first. */
  async write (js: JetStreamClient, record: IdentityRecord, expectedSeq: number): Promise<boolean> {
    try {
      await js.publish(this.#subject, encodeIdentity(record), { expect: { lastSubjectSequence: expectedSeq } })
      return true
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) return false
      throw unavailable(err, 'writing the stream identity failed')
    }
  }
}
