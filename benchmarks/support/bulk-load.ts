/**
 * Lands many changes in a namespace's stream fast, for catch-up and scale:
 * the records a node's writer would publish (same schema, sealed under the
 * run's data key, version N+1 on top of N), but published in a pipeline
 * without the writer's per-write round trip and local apply. Only the
 * reading side is being measured. Under a policy the records are signed by
 * a host key the policy grants to {@link LOADER}, as that host's writer
 * would sign them.
 */
import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import { v7 as uuidv7 } from 'uuid'
import { keyToSubjectTokens } from '../../lib/key.js'
import { readKeyFile } from '../../lib/key-file.js'
import { entitySubjectPrefix } from '../../lib/log/jetstream-log.js'
import { Authenticator } from '../../lib/authenticator.js'
import type { SigningKey } from '../../lib/identity/signing-key.js'
import { buildRecord, encodeRecord } from '../../lib/records/record.js'
import { Sealer } from '../../lib/seal.js'
import { key, valueBytes } from './data.js'
import { counter } from './progress.js'
import { pipelined } from './stats.js'

const WINDOW = 1024
/** The node id the loaded records name: the grant a policy must give the loader's key. */
export const LOADER = 'bench-loader'

export interface BulkLoad {
  nc: NatsConnection
  namespace: string
  keyFile: string
  /** Changes to publish, round-robin over `keys` keys: change i is version ⌊i / keys⌋ + 1 of key i mod keys. */
  changes: number
  keys: number
  label: string
  /** The host key to sign with (the namespace is under a policy that grants it to {@link LOADER}); unsigned without. */
  signer?: SigningKey
}

/** Publishes the changes (into keys that have no records yet); resolves with the last sequence. */
export async function bulkLoad ({ nc, namespace, keyFile, changes, keys, label, signer }: BulkLoad): Promise<number> {
  const js = jetstream(nc, { timeout: 30_000 })
  const dataKey = await readKeyFile(keyFile)
  const sealer = new Sealer(dataKey)
  const authenticator = new Authenticator(dataKey)
  const prefix = entitySubjectPrefix(namespace)
  let lastSeq = 0
  // At most one version of a key in flight: a reordered pair would be a stale version.
  await pipelined(changes, Math.min(WINDOW, keys), async (i) => {
    const n = i % keys
    const k = key(n)
    const version = Math.floor(i / keys) + 1
    const head = { ns: namespace, key: k, version, meta: { updatedAt: new Date().toISOString(), nodeId: LOADER, correlationId: uuidv7() } }
    const data = encodeRecord(buildRecord(head, 'put', valueBytes(n, version), { sealerFor: () => sealer, authenticator, signer }))
    const ack = await js.publish(prefix + keyToSubjectTokens(k), data)
    lastSeq = Math.max(lastSeq, ack.seq)
  }, counter(label, changes))
  return lastSeq
}
