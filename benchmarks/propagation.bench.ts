/**
 * Scenario 3, propagation: a put on host A until the event at a watcher on
 * host B, both in this process (one clock). credreg: node A writes; node B's
 * library `watch`, then a daemon's SSE stream through a client, receive.
 * NATS KV and etcd: a put on one connection, a watch on another.
 */
import { connect } from '../lib/client/client.js'
import { Arrivals, measurePropagation } from './support/arrivals.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, openBenchNode } from './support/credreg.js'
import { key, value, valueBytes } from './support/data.js'
import { openBucket } from './support/nats-kv.js'
import { progress } from './support/progress.js'
import { measuredRow } from './support/rows.js'
import { withDaemon, withEtcd, type Scenario } from './support/scenario.js'

const ID = 'propagation'
const NAMESPACE = 'bprop'
const KEYS = 100

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    const count = env.sizes.propagationOps
    const keyOf = (i: number): number => i % KEYS
    const stop = new AbortController()
    const a = await openBenchNode(env, NAMESPACE, 'prop-a')
    try {
      const write = async (k: string, i: number): Promise<unknown> => await a.put(k, value(keyOf(i), i))
      {
        progress(`${ID}: credreg node (library watch)`)
        const b = await openBenchNode(env, NAMESPACE, 'prop-b')
        const arrivals = new Arrivals()
        const watching = (async () => { for await (const e of b.watch('svc/', { signal: stop.signal })) arrivals.arrived(e.key) })()
        try {
          const m = await measurePropagation(count, arrivals, i => key(keyOf(i)), write)
          rows.push(measuredRow(ID, 'credreg node', 'node A put → node B watch event (library)', m))
        } finally {
          await discardNode(b)
          await watching
        }
      }
      const written = (await a.nodeStatus()).appliedSeq
      await withDaemon(env, rows, ID, NAMESPACE, written, async (daemon) => {
        progress(`${ID}: credreg daemon (SSE)`)
        await using client = connect({ socket: daemon.socket })
        const arrivals = new Arrivals()
        // From a known sequence: a watch "from now" would fix "now" only at its first request, possibly after the first put.
        const watching = (async () => { for await (const e of client.watch('svc/', { since: written, signal: stop.signal })) arrivals.arrived(e.key) })()
        try {
          const m = await measurePropagation(count, arrivals, i => key(keyOf(i)), write)
          rows.push(measuredRow(ID, 'credreg daemon', 'node A put → daemon B SSE event at a client', m))
        } finally {
          stop.abort()
          await watching
        }
      })
    } finally {
      stop.abort()
      await discardNode(a)
      await dropNamespace(env, NAMESPACE)
    }

    progress(`${ID}: NATS KV`)
    {
      await using bucket = await openBucket(env, NAMESPACE)
      const remote = await bucket.remote()
      const arrivals = new Arrivals()
      const watcher = await remote.watch({ include: 'updates' })
      const watching = (async () => { for await (const e of watcher) arrivals.arrived(e.key) })()
      try {
        const m = await measurePropagation(count, arrivals, i => key(keyOf(i)), async (k, i) => await bucket.kv.put(k, valueBytes(keyOf(i), i)))
        rows.push(measuredRow(ID, 'NATS KV', 'kv.put on connection A → kv.watch entry on connection B', m))
      } finally {
        watcher.stop()
        await watching
      }
    }

    await withEtcd(env, rows, ID, NAMESPACE, async (space) => {
      progress(`${ID}: etcd`)
      const arrivals = new Arrivals()
      const watcher = await space.remote().watch().prefix('svc/').create()
      watcher.on('put', kv => arrivals.arrived(kv.key.toString()))
      try {
        const m = await measurePropagation(count, arrivals, i => key(keyOf(i)), async (k, i) => await space.ns.put(k).value(valueBytes(keyOf(i), i)).exec())
        rows.push(measuredRow(ID, 'etcd', 'put on client A → watch event on client B', m))
      } finally {
        await watcher.cancel()
      }
    })
  }
}

await runIfMain(import.meta, scenario)
