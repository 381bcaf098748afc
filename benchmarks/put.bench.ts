/**
 * Scenario 2, conditional put: each write names the version it replaces,
 * on existing keys, with 1 writer and with 16 concurrent writers on distinct
 * keys. credreg: `put(key, value, { ifVersion })` committed to the log and
 * applied locally, in process and through the daemon; NATS KV:
 * `update(key, value, revision)`; etcd: a transaction on `mod_revision`.
 */
import { connect } from '../lib/client/client.js'
import type { Row, System } from './support/results.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, loadNode, openBenchNode } from './support/credreg.js'
import { key, spread, value, valueBytes } from './support/data.js'
import { etcdUpdate, loadEtcd } from './support/etcd.js'
import { loadBucket, openBucket } from './support/nats-kv.js'
import { progress } from './support/progress.js'
import { measuredRow } from './support/rows.js'
import { withDaemon, withEtcd, type Scenario } from './support/scenario.js'
import { measure, measureConcurrent } from './support/stats.js'
import type { Sizes } from './support/sizes.js'

const NAMESPACE = 'bput'

/** A conditional write of key n on top of `expected`; resolves with the new version or revision. */
type Update = (n: number, expected: number) => Promise<number>

export const scenario: Scenario = {
  id: 'put',
  run: async (env, rows) => {
    const node = await openBenchNode(env, NAMESPACE, 'put-node')
    let versions: number[]
    let lastSeq: number
    try {
      ({ versions, lastSeq } = await loadNode(node, env.sizes.putKeys))
      rows.push(...await both(env.sizes, 'credreg node', 'node.put with ifVersion', versions, async (n, v) => (await node.put(key(n), value(n, v), { ifVersion: v })).version))
      lastSeq = (await node.nodeStatus()).appliedSeq
    } finally {
      await discardNode(node)
    }
    await withDaemon(env, rows, 'put-1', NAMESPACE, lastSeq, async (daemon) => {
      await using client = connect({ socket: daemon.socket })
      rows.push(...await both(env.sizes, 'credreg daemon', 'client.put with ifVersion (If-Match)', versions, async (n, v) => (await client.put(key(n), value(n, v), { ifVersion: v })).version))
    })
    await dropNamespace(env, NAMESPACE)

    {
      await using bucket = await openBucket(env, NAMESPACE)
      const revisions = await loadBucket(bucket.kv, env.sizes.putKeys)
      rows.push(...await both(env.sizes, 'NATS KV', 'kv.update(key, value, revision)', revisions, async (n, r) => await bucket.kv.update(key(n), valueBytes(n, r), r)))
    }

    await withEtcd(env, rows, 'put-1', NAMESPACE, async ({ ns }) => {
      const revisions = await loadEtcd(ns, env.sizes.putKeys)
      rows.push(...await both(env.sizes, 'etcd', 'txn: if mod_revision == r then put', revisions, async (n, r) => {
        const next = await etcdUpdate(ns, key(n), valueBytes(n, r), r)
        if (next === undefined) throw new Error(`etcd refused ${key(n)} at mod revision ${r}: nobody else writes it`)
        return next
      }))
    })
    // A system that could not run (no daemon, no etcd) has a put-1 row saying why; put-16 needs one too.
    for (const missing of rows.filter(r => r.scenario === 'put-1' && r.status !== 'ok')) {
      if (!rows.some(r => r.scenario === 'put-16' && r.system === missing.system)) rows.push({ ...missing, scenario: 'put-16' })
    }
  }
}

/** The 1-writer and the 16-writer rows of one system; `current` tracks each key's version or revision. */
async function both (sizes: Sizes, system: System, note: string, current: number[], update: Update): Promise<Row[]> {
  const write = async (n: number): Promise<void> => { current[n] = await update(n, current[n] as number) }
  progress(`put: ${system}, 1 writer`)
  const one = await measure(sizes.putOps, async i => await write(spread(i, sizes.putKeys)))
  progress(`put: ${system}, ${sizes.putWriters} writers`)
  // Writer w owns the keys n ≡ w (mod writers): distinct keys, no conflicts.
  const perWriter = Math.floor(sizes.putKeys / sizes.putWriters)
  const many = await measureConcurrent(sizes.putWriters, sizes.putOpsPerWriter, async (w, i) => await write(w + sizes.putWriters * (i % perWriter)))
  return [
    measuredRow('put-1', system, note, one),
    measuredRow('put-16', system, `${note}, ${sizes.putWriters} writers on distinct keys`, many)
  ]
}

await runIfMain(import.meta, scenario)
