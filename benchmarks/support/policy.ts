/**
 * Putting a scenario's namespace under a policy: an admin key of the run's
 * own, grants of everything to the hosts that write, one read scope ('')
 * under the run's data key. Policy versions are published straight to the
 * stream, as an admin's tool would carry them.
 */
import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { v7 as uuidv7 } from 'uuid'
import { keyId } from '../../lib/authenticator.js'
import { POLICY_KEY, type HostGrant } from '../../lib/identity/policy.js'
import { SigningKey } from '../../lib/identity/signing-key.js'
import { keyToSubjectTokens } from '../../lib/key.js'
import { readKeyFile } from '../../lib/key-file.js'
import { entitySubjectPrefix } from '../../lib/log/jetstream-log.js'
import { buildPolicyRecord, encodeRecord } from '../../lib/records/record.js'

/** A host that may write: its node id and public key. */
export interface Writer { name: string, key: string }

/** The admin of one namespace's policy, and the versions it published. */
export class BenchPolicy {
  readonly #admin = SigningKey.generate()
  readonly #nc: NatsConnection
  readonly #namespace: string
  readonly #keyFile: string
  #version = 0

  constructor (nc: NatsConnection, namespace: string, keyFile: string) {
    this.#nc = nc
    this.#namespace = namespace
    this.#keyFile = keyFile
  }

  /** Publishes the next version, granting `writers` every key; resolves with its log sequence. */
  async grant (writers: Writer[]): Promise<number> {
    const kid = keyId(await readKeyFile(this.#keyFile))
    const hosts: HostGrant[] = writers.map(({ name, key }) => ({ name, key, write: [''], read: [''], rotations: true }))
    const head = { ns: this.#namespace, key: POLICY_KEY, version: ++this.#version, meta: { updatedAt: new Date().toISOString(), nodeId: 'bench-admin', correlationId: uuidv7() } }
    const record = buildPolicyRecord(head, { admin: this.#admin.publicKey, hosts, scopes: [{ prefix: '', kids: [kid] }] }, this.#admin)
    const ack = await jetstream(this.#nc).publish(entitySubjectPrefix(this.#namespace) + keyToSubjectTokens(POLICY_KEY), encodeRecord(record))
    return ack.seq
  }
}
