/**
 * Scenario 1, get: keys read one at a time in a scattered order by an
 * in-process node (`openNode`), a client through the daemon's unix socket,
 * a client with a read cache (`connect({ cache })`, every key read once
 * before timing), NATS KV `get` and etcd's serializable get. Every reader
 * parses the value (the cached client copies it).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type CredregClient } from '../lib/client/client.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, loadNode, openBenchNode } from './support/credreg.js'
import { key, spread } from './support/data.js'
import { etcdGet, loadEtcd } from './support/etcd.js'
import { loadBucket, openBucket } from './support/nats-kv.js'
import { progress } from './support/progress.js'
import { measuredRow } from './support/rows.js'
import { withDaemon, withEtcd, type Scenario } from './support/scenario.js'
import { measure } from './support/stats.js'

const ID = 'get'
const NAMESPACE = 'bget'
// What every key(n) starts with.
const PREFIX = 'svc/'

/** Waits for the cache's watch, then reads every key once: the timed gets are hits. */
async function warmCache (client: CredregClient, keys: number): Promise<void> {
  await client.get(key(0))
  const deadline = Date.now() + 30_000
  while (client.cacheStatus()?.watches.every(w => w.live) !== true) {
    if (Date.now() > deadline) throw new Error('the cache watch did not go live within 30 s')
    await sleep(20)
  }
  for (let n = 0; n < keys; n++) await client.get(key(n))
  const held = client.cacheStatus()?.keys
  if (held !== keys) throw new Error(`the cache holds ${String(held)} keys, not ${keys}`)
}

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    const { getKeys, getOps } = env.sizes
    const pick = (i: number): string => key(spread(i, getKeys))

    const node = await openBenchNode(env, NAMESPACE, 'get-node')
    let lastSeq: number
    try {
      lastSeq = (await loadNode(node, getKeys)).lastSeq
      progress(`${ID}: credreg node`)
      rows.push(measuredRow(ID, 'credreg node', 'node.get from the in-process replica', await measure(getOps, async i => await node.get(pick(i)))))
    } finally {
      await discardNode(node)
    }
    await withDaemon(env, rows, ID, NAMESPACE, lastSeq, async (daemon) => {
      progress(`${ID}: credreg daemon`)
      // A client of its own, as an application would hold one.
      await using client = connect({ socket: daemon.socket })
      rows.push(measuredRow(ID, 'credreg daemon', 'client.get over the unix socket', await measure(getOps, async i => await client.get(pick(i)))))
      progress(`${ID}: credreg cached client`)
      await using cached = connect({ socket: daemon.socket, cache: { prefixes: [PREFIX] } })
      await warmCache(cached, getKeys)
      rows.push(measuredRow(ID, 'credreg cached client', 'client.get with connect({ cache }), every key cached', await measure(getOps, async i => await cached.get(pick(i)))))
    })
    await dropNamespace(env, NAMESPACE)

    progress(`${ID}: NATS KV`)
    {
      await using bucket = await openBucket(env, NAMESPACE)
      await loadBucket(bucket.kv, getKeys)
      rows.push(measuredRow(ID, 'NATS KV', 'kv.get (direct get), value parsed', await measure(getOps, async i => (await bucket.kv.get(pick(i)))?.json())))
    }

    await withEtcd(env, rows, ID, NAMESPACE, async ({ ns }) => {
      progress(`${ID}: etcd`)
      await loadEtcd(ns, getKeys)
      rows.push(measuredRow(ID, 'etcd', 'serializable get, value parsed', await measure(getOps, async i => await etcdGet(ns, pick(i)))))
    })
  }
}

await runIfMain(import.meta, scenario)
