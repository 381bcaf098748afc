/**
 * Scenario 5, scale: a register of 1,000,000 entities. credreg: a new
 * daemon builds its replica from the stream (time from its spawn), its RSS
 * afterwards (read from /proc, the daemon alone), then get latency at that
 * size; an in-process node does the same build for comparison (its memory is
 * the benchmark's, so not reported). NATS KV and etcd hold the same keys: the
 * time for a new reader to receive them all (a KV watch of last values, an
 * etcd paged range read) and their get latency at that size.
 */
import { rm } from 'node:fs/promises'
import { Range } from 'etcd3'
import { connect } from '../lib/client/client.js'
import { bulkLoad } from './support/bulk-load.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, openBenchNode, openRawNode, scratchDir, type BenchNode } from './support/credreg.js'
import { startBenchDaemon } from './support/daemon.js'
import { key, spread } from './support/data.js'
import { etcdGet, loadEtcd, type EtcdSpace } from './support/etcd.js'
import type { BenchEnv } from './support/env.js'
import { loadBucket, openBucket } from './support/nats-kv.js'
import { counter, progress } from './support/progress.js'
import type { Row } from './support/results.js'
import { missingRow, rateRow, round } from './support/rows.js'
import { withEtcd, type Scenario } from './support/scenario.js'
import { measure } from './support/stats.js'

const ID = 'scale'
const NAMESPACE = 'bscale'
const ETCD_PAGE = 10_000

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    await credreg(env, rows)
    await natsKv(env, rows)
    await withEtcd(env, rows, ID, NAMESPACE, async space => await etcd(env, space, rows))
  }
}

async function credreg (env: BenchEnv, rows: Row[]): Promise<void> {
  const { scaleEntities: entities, scaleGets } = env.sizes
  const pick = (i: number): string => key(spread(i, entities))
  await discardNode(await openBenchNode(env, NAMESPACE, 'scale-seed'))
  try {
    const lastSeq = await bulkLoad({ nc: env.nc, namespace: NAMESPACE, keyFile: env.keyFile, changes: entities, keys: entities, label: `${ID}: credreg loading` })

    if (env.daemonUnavailable !== undefined) {
      rows.push(missingRow(ID, 'credreg daemon', 'unavailable', env.daemonUnavailable))
    } else {
      progress(`${ID}: credreg daemon building its replica`)
      const dir = await scratchDir(env, 'scale-d')
      const started = performance.now()
      const daemon = await startBenchDaemon({ natsUrl: env.nats.url, keyFile: env.keyFile, namespace: NAMESPACE, dir })
      try {
        await daemon.waitApplied(lastSeq, counter(`${ID}: credreg daemon applied`, lastSeq))
        const seconds = (performance.now() - started) / 1000
        const built = daemon.memory()
        await using client = connect({ socket: daemon.socket })
        const gets = await measure(scaleGets, async i => await client.get(pick(i)))
        const after = daemon.memory()
        rows.push(rateRow(ID, 'credreg daemon', 'new daemon: spawn → replica built from the stream; then client.get', entities, entities / seconds, {
          'build s': round(seconds),
          'RSS MB': round(Math.max(built.rssMB, after.rssMB)),
          'peak RSS MB': round(after.peakMB)
        }, gets))
      } finally {
        await daemon[Symbol.asyncDispose]()
        await rm(dir, { recursive: true, force: true })
      }
    }

    progress(`${ID}: credreg node building its replica`)
    const started = performance.now()
    const node = await openRawNode(env, NAMESPACE, 'scale-node')
    try {
      await waitWithProgress(node, lastSeq)
      const seconds = (performance.now() - started) / 1000
      const gets = await measure(scaleGets, async i => await node.get(pick(i)))
      rows.push(rateRow(ID, 'credreg node', 'new in-process node: openNode → replica built from the stream; then node.get', entities, entities / seconds, { 'build s': round(seconds) }, gets))
    } finally {
      await discardNode(node)
    }
  } finally {
    await dropNamespace(env, NAMESPACE)
  }
}

async function waitWithProgress (node: BenchNode, lastSeq: number): Promise<void> {
  const report = counter(`${ID}: credreg node applied`, lastSeq)
  const done = node.waitForApplied(lastSeq, 3_600_000)
  const timer = setInterval(() => { void node.nodeStatus().then(s => report(s.appliedSeq), () => {}) }, 1000)
  try {
    await done
  } finally {
    clearInterval(timer)
  }
  report(lastSeq)
}

async function natsKv (env: BenchEnv, rows: Row[]): Promise<void> {
  const { scaleEntities: entities, scaleGets } = env.sizes
  await using bucket = await openBucket(env, NAMESPACE)
  await loadBucket(bucket.kv, entities, counter(`${ID}: NATS KV loading`, entities))
  progress(`${ID}: NATS KV watcher receiving every key`)
  const remote = await bucket.remote()
  const started = performance.now()
  const watcher = await remote.watch()
  let seen = 0
  for await (const _ of watcher) {
    if (++seen === entities) break
  }
  const seconds = (performance.now() - started) / 1000
  watcher.stop()
  const gets = await measure(scaleGets, async i => (await bucket.kv.get(key(spread(i, entities))))?.json())
  rows.push(rateRow(ID, 'NATS KV', 'new connection: kv.watch delivers every last value; then kv.get', entities, entities / seconds, { 'build s': round(seconds) }, gets))
}

async function etcd (env: BenchEnv, space: EtcdSpace, rows: Row[]): Promise<void> {
  const { scaleEntities: entities, scaleGets } = env.sizes
  await loadEtcd(space.ns, entities, entities, counter(`${ID}: etcd loading`, entities))
  progress(`${ID}: etcd paged read of every key`)
  const started = performance.now()
  const remote = space.remote()
  let seen = 0
  let from = 'svc/'
  for (;;) {
    const page = await remote.getAll().inRange(new Range(from, 'svc0')).sort('Key', 'Ascend').limit(ETCD_PAGE).exec()
    seen += page.kvs.length
    const last = page.kvs.at(-1)
    if (last === undefined || page.kvs.length < ETCD_PAGE) break
    from = `${last.key.toString()}\0`
  }
  const seconds = (performance.now() - started) / 1000
  if (seen !== entities) throw new Error(`etcd paged read saw ${seen} keys, not ${entities}`)
  const gets = await measure(scaleGets, async i => await etcdGet(space.ns, key(spread(i, entities))))
  rows.push(rateRow(ID, 'etcd', 'new client reads every key (paged range, 10,000 a page); then serializable gets', entities, entities / seconds, { 'build s': round(seconds) }, gets))
}

await runIfMain(import.meta, scenario)
