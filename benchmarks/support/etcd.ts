/**
 * The etcd peer: clients on a key prefix (etcd3's namespaces, so callers
 * still see `svc/<n>/db`); writes conditional on `mod_revision` in a
 * transaction, reads serializable.
 */
import { Etcd3, type Namespace } from 'etcd3'
import type { EtcdServer } from './etcd-server.js'
import { key, valueBytes } from './data.js'
import { pipelined } from './stats.js'

const TXN_OPS = 128
// A watch that catches up sends up to 1,000 revisions per message, each a
// transaction of up to 128 puts: far more than gRPC's default 4 MB.
const OPTIONS = { grpcOptions: { 'grpc.max_receive_message_length': -1 } }

export interface EtcdSpace extends AsyncDisposable {
  readonly ns: Namespace
  /** The same prefix over a second client: another host. */
  remote: () => Namespace
}

/** A client on prefix `name/`. */
export function openEtcd (server: EtcdServer, name: string): EtcdSpace {
  const clients = [new Etcd3({ hosts: server.url, ...OPTIONS })]
  const ns = (clients[0] as Etcd3).namespace(`${name}/`)
  return {
    ns,
    remote: () => {
      const client = new Etcd3({ hosts: server.url, ...OPTIONS })
      clients.push(client)
      return client.namespace(`${name}/`)
    },
    [Symbol.asyncDispose]: async () => {
      for (const client of clients) client.close()
    }
  }
}

/** Serializable (member-local) read of `k`, parsed. */
export async function etcdGet (ns: Namespace, k: string): Promise<unknown> {
  return await ns.get(k).serializable(true).json()
}

/** Writes `value` under `k` if its mod revision is still `modRevision`; resolves with the new one, or `undefined` on conflict. */
export async function etcdUpdate (ns: Namespace, k: string, data: Buffer, modRevision: number): Promise<number | undefined> {
  const res = await ns.if(k, 'Mod', '==', modRevision).then(ns.put(k).value(data)).commit()
  return res.succeeded ? Number(res.header.revision) : undefined
}

/**
 * Lands `changes` puts round-robin over `keys` keys (change i: key i mod keys,
 * count i), in transactions of up to 128 puts (etcd's `--max-txn-ops`), 8 in
 * flight; resolves with each key's latest mod revision.
 */
export async function loadEtcd (ns: Namespace, keys: number, changes = keys, onDone?: (done: number) => void): Promise<number[]> {
  const revisions = new Array<number>(keys).fill(0)
  // A key may appear only once in a transaction.
  const size = Math.min(TXN_OPS, keys)
  let done = 0
  await pipelined(Math.ceil(changes / size), 8, async (batch) => {
    const first = batch * size
    const ids = Array.from({ length: Math.min(size, changes - first) }, (_, j) => first + j)
    const res = await ns.kv.txn({
      success: ids.map(i => ({ request_put: { key: Buffer.concat([ns.prefix, Buffer.from(key(i % keys))]), value: valueBytes(i % keys, i) } }))
    })
    for (const i of ids) revisions[i % keys] = Math.max(revisions[i % keys] as number, Number(res.header.revision))
    done += ids.length
    onDone?.(done)
  })
  return revisions
}
