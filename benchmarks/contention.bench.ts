/**
 * Scenario 6, contention: 16 writers increment a counter in one key, each
 * reading it and writing it back on the condition that nobody wrote in
 * between, retrying on conflict. Half the writers use one host, half another
 * (credreg: two nodes; the peers: two connections). Measured: successful
 * increments/s, conflicts/s, the latency of an increment including its
 * retries, and whether the final count is exact.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { isCredregError } from '../lib/errors.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, openBenchNode, streamLastSeq } from './support/credreg.js'
import { key, value, valueBytes } from './support/data.js'
import { etcdUpdate } from './support/etcd.js'
import { openBucket } from './support/nats-kv.js'
import { progress } from './support/progress.js'
import type { Row, System } from './support/results.js'
import { measuredRow, round } from './support/rows.js'
import type { Sizes } from './support/sizes.js'
import { withEtcd, type Scenario } from './support/scenario.js'
import { measureConcurrent } from './support/stats.js'

const ID = 'contention'
const NAMESPACE = 'bcontend'
const KEY = key(0)

/** One attempt: read the count, write count + 1 on that condition; `false` on a conflict. */
type Attempt = (writer: number) => Promise<boolean>

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    const nodes = [await openBenchNode(env, NAMESPACE, 'contend-a'), await openBenchNode(env, NAMESPACE, 'contend-b')]
    try {
      const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
      const created = await a.put(KEY, value(0, 0))
      await b.waitForApplied(created.seq)
      rows.push(await contend(env.sizes, 'credreg node', 'node.get then node.put with ifVersion, on two nodes', async (w) => {
        const node = w % 2 === 0 ? a : b
        const current = await node.get(KEY)
        try {
          await node.put(KEY, value(0, (current.value?.count as number) + 1), { ifVersion: current.version })
          return true
        } catch (err) {
          if (isCredregError(err, 'VERSION_CONFLICT')) return false
          throw err
        }
      }, async () => {
        await b.waitForApplied(await streamLastSeq(env, NAMESPACE))
        return (await b.get(KEY)).value?.count as number
      }))
    } finally {
      for (const node of nodes) await discardNode(node)
      await dropNamespace(env, NAMESPACE)
    }

    {
      await using bucket = await openBucket(env, NAMESPACE)
      const kvs = [bucket.kv, await bucket.remote()]
      await bucket.kv.put(KEY, valueBytes(0, 0))
      rows.push(await contend(env.sizes, 'NATS KV', 'kv.get then kv.update with its revision, on two connections', async (w) => {
        const kv = kvs[w % 2] as typeof bucket.kv
        const current = await kv.get(KEY)
        if (current === null) throw new Error(`${KEY} vanished`)
        try {
          await kv.update(KEY, valueBytes(0, (current.json<{ count: number }>().count) + 1), current.revision)
          return true
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) return false
          throw err
        }
      }, async () => (await bucket.kv.get(KEY))?.json<{ count: number }>().count ?? 0))
    }

    await withEtcd(env, rows, ID, NAMESPACE, async (space) => {
      const spaces = [space.ns, space.remote()]
      await space.ns.put(KEY).value(valueBytes(0, 0)).exec()
      rows.push(await contend(env.sizes, 'etcd', 'get then txn on its mod_revision, on two clients', async (w) => {
        const ns = spaces[w % 2] as typeof space.ns
        const kv = (await ns.get(KEY).exec()).kvs[0]
        if (kv === undefined) throw new Error(`${KEY} vanished`)
        const count = (JSON.parse(kv.value.toString()) as { count: number }).count
        return await etcdUpdate(ns, KEY, valueBytes(0, count + 1), Number(kv.mod_revision)) !== undefined
      }, async () => (await space.ns.get(KEY).json() as { count: number }).count))
    })
  }
}

/** Runs the writers to their quota of successful increments; the row, with the final count checked. */
async function contend (sizes: Sizes, system: System, note: string, attempt: Attempt, finalCount: () => Promise<number>): Promise<Row> {
  progress(`${ID}: ${system}`)
  const { contentionWriters: writers, contentionIncrements: each } = sizes
  let conflicts = 0
  const m = await measureConcurrent(writers, each, async (w) => {
    while (!await attempt(w)) conflicts++
  }, 0)
  const seconds = m.n / m.opsPerSec
  const expected = writers * each
  const final = await finalCount()
  return measuredRow(ID, system, `${note}; ${writers} writers × ${each} increments`, m, {
    'conflicts/s': round(conflicts / seconds),
    'conflicts per increment': round(conflicts / expected),
    'final count exact': final === expected
  })
}

await runIfMain(import.meta, scenario)
