/**
 * The identity record (identity-record.ts) on the stream: read from and
 * written to the stream itself, on its own subject. The stream's creation
 * time would not do: in a cluster each member stamps its own. Writes are
 * conditional on the subject's latest sequence, so of nodes writing at once
 * exactly one wins and all read the same.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Authenticator } from '../authenticator.js'
import { decodeIdentity, encodeIdentity, type IdentityRecord } from './identity-record.js'
import { unavailable } from './nats-errors.js'

// Reading an identity record that another node is about to write: a few tries, a little apart.
const ATTEMPTS = 10
const RETRY_MS = 200
// The subject keeps as many records as any key: more than this many is not a stream credreg made.
const MAX_WALK = 128

/** A message on the identity subject, as the stream holds it. */
export interface RawMessage { seq: number, data: Uint8Array }

/** How the identity reads the subject: its newest message, and the next one after a sequence. */
export interface IdentityMessages {
  last: () => Promise<RawMessage | undefined>
  after: (seq: number) => Promise<RawMessage | undefined>
}

/** The identity record as read, with its sequence (for a conditional replacement) and whether its tag holds. */
export interface IdentityAt { record: IdentityRecord, seq: number, verified: boolean }

export class StreamIdentity {
  readonly #stream: string
  readonly #subject: string
  readonly #authenticator: Authenticator
  readonly #messages: IdentityMessages

  constructor (stream: string, subject: string, authenticator: Authenticator, messages: IdentityMessages) {
    this.#stream = stream
    this.#subject = subject
    this.#authenticator = authenticator
    this.#messages = messages
  }

  /** The name of the history a record identifies: `<stream>@<id>`. */
  name (record: IdentityRecord): string {
    return `${this.#stream}@${record.id}`
  }

  /**
   * The stream's identity, `undefined` when it has none that can be read.
   * Only a node that may create the stream's history (the stream is empty and
   * its replica too) writes one when there is none: a replica built from a
   * history must never stamp an identity on a stream it did not create (a
   * reseed in progress writes its own in a moment), so it waits for one.
   */
  async get (js: JetStreamClient, mayWrite: boolean): Promise<IdentityAt | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read()
      if (current !== undefined) return current
      if (mayWrite) await this.write(js, { id: randomUUID(), lineage: [], authenticated: true }, 0)
      else await sleep(RETRY_MS)
    }
    return undefined
  }

  /** Waits a little for an identity record another node is writing; `undefined` if none comes. */
  async await (): Promise<IdentityAt | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read()
      if (current !== undefined) return current
      await sleep(RETRY_MS)
    }
    return undefined
  }

  /**
   * The newest identity record whose tag holds; failing that (a stream made
   * before tags), the newest untagged one. Records with a tag that does not
   * hold are forgeries: passed over, never taken for the stream's identity.
   */
  async read (): Promise<IdentityAt | undefined> {
    try {
      const last = await this.#messages.last()
      if (last === undefined) return undefined
      const newest = this.decode(last)
      if (newest?.verified === true) return newest
      let verified: IdentityAt | undefined
      let untagged: IdentityAt | undefined
      let m = await this.#messages.after(0)
      for (let n = 0; m !== undefined && n < MAX_WALK; n++) {
        const read = this.decode(m)
        if (read?.verified === true) verified = read
        else if (read !== undefined) untagged = read
        m = await this.#messages.after(m.seq)
      }
      return verified ?? untagged
    } catch (err) {
      throw unavailable(err, 'reading the stream identity failed')
    }
  }

  /** An identity record as read from the stream; `undefined` when unreadable or forged. */
  decode (m: RawMessage): IdentityAt | undefined {
    const read = decodeIdentity(this.#stream, Buffer.from(m.data).toString('utf8'), this.#authenticator)
    return read === undefined ? undefined : { ...read, seq: m.seq }
  }

  /** Writes `record`, tagged, if the identity subject's latest record is still at `expectedSeq`; false when another node wrote first. */
  async write (js: JetStreamClient, record: IdentityRecord, expectedSeq: number): Promise<boolean> {
    try {
      await js.publish(this.#subject, encodeIdentity(this.#stream, record, this.#authenticator), { expect: { lastSubjectSequence: expectedSeq } })
      return true
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) return false
      throw unavailable(err, 'writing the stream identity failed')
    }
  }
}
