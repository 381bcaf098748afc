/**
 * Scenario 4, catch-up: a reader is away while changes land (100,000 over
 * 10,000 keys), then comes back; time from its return until it has applied
 * them all. credreg: a daemon (from its spawn) and an in-process node (from
 * `openNode`) that had both seen the namespace before; NATS KV: a watch of
 * all history (the bucket keeps every change); etcd: a watch from the
 * revision before the changes. credreg runs twice: in open mode, then
 * with the same changes signed under a policy (every replica verifies every
 * signature), reported beside the open-mode figures.
 */
import { SigningKey } from '../lib/identity/signing-key.js'
import { bulkLoad, LOADER } from './support/bulk-load.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, openBenchNode, openRawNode, scratchDir } from './support/credreg.js'
import { startBenchDaemon } from './support/daemon.js'
import { key, valueBytes } from './support/data.js'
import type { BenchEnv } from './support/env.js'
import { loadEtcd, type EtcdSpace } from './support/etcd.js'
import { openBucket } from './support/nats-kv.js'
import { counter, progress } from './support/progress.js'
import type { Row } from './support/results.js'
import { BenchPolicy } from './support/policy.js'
import { besideOpenMode, missingRow, rateRow, round } from './support/rows.js'
import { withEtcd, type Scenario } from './support/scenario.js'
import { pipelined } from './support/stats.js'

const ID = 'catch-up'
const NAMESPACE = 'bcatch'

/** One credreg run: open mode, or under a policy with signed records. */
interface Mode { id: string, namespace: string, signed: boolean }
const OPEN: Mode = { id: ID, namespace: NAMESPACE, signed: false }
const SIGNED: Mode = { id: `${ID}-signed`, namespace: `${NAMESPACE}s`, signed: true }

export const scenario: Scenario = {
  id: ID,
  run: async (env, rows) => {
    await credreg(env, rows, OPEN)
    await credreg(env, rows, SIGNED)
    await natsKv(env, rows)
    await withEtcd(env, rows, ID, NAMESPACE, async space => await etcd(env, space, rows))
  }
}

async function credreg (env: BenchEnv, rows: Row[], { id, namespace, signed }: Mode): Promise<void> {
  const { catchUpChanges: changes, catchUpKeys: keys } = env.sizes
  const push = (row: Row): void => { rows.push(signed ? besideOpenMode(row, rows) : row) }
  // Both readers see the empty namespace first, then go away.
  const first = await openBenchNode(env, namespace, 'catch-node')
  await first.close()
  const daemon = env.daemonUnavailable === undefined
    ? await startBenchDaemon({ natsUrl: env.nats.url, keyFile: env.keyFile, namespace, dir: await scratchDir(env, 'catch-d') })
    : undefined
  await daemon?.stop()
  try {
    // Under a policy the readers catch up with the policy too: its record comes first.
    const signer = signed ? SigningKey.generate() : undefined
    if (signer !== undefined) await new BenchPolicy(env.nc, namespace, env.keyFile).grant([{ name: LOADER, key: signer.publicKey }])
    const lastSeq = await bulkLoad({ nc: env.nc, namespace, keyFile: env.keyFile, changes, keys, label: `${id}: credreg changes landing`, ...(signer !== undefined ? { signer } : {}) })

    progress(`${id}: credreg node catching up`)
    let started = performance.now()
    const node = await openRawNode(env, namespace, 'catch-node', first.dataDir)
    try {
      await node.waitForApplied(lastSeq, 600_000)
      const seconds = (performance.now() - started) / 1000
      push(rateRow(id, 'credreg node', 'openNode on the old replica → all applied', changes, changes / seconds, { seconds: round(seconds) }))
    } finally {
      await discardNode(node)
    }

    if (daemon === undefined) {
      rows.push(missingRow(id, 'credreg daemon', 'unavailable', env.daemonUnavailable ?? ''))
      return
    }
    progress(`${id}: credreg daemon catching up`)
    started = performance.now()
    await daemon.start()
    const ready = performance.now()
    let atReady: number | undefined
    await daemon.waitApplied(lastSeq, counterOf(id, lastSeq, applied => { atReady ??= applied }))
    const done = performance.now()
    const seconds = (done - started) / 1000
    const left = lastSeq - (atReady ?? lastSeq)
    push(rateRow(id, 'credreg daemon', 'daemon spawned on the old replica → all applied (from spawn)', changes, changes / seconds, {
      seconds: round(seconds),
      'spawn → API s': round((ready - started) / 1000),
      // What was still to apply once the API answered, and how fast it went: the apply rate without the start-up.
      'left at API up': left,
      ...(left > 0 ? { 'changes/s after API up': round(left / Math.max(0.001, (done - ready) / 1000)) } : {})
    }))
  } finally {
    await daemon?.[Symbol.asyncDispose]()
    await dropNamespace(env, namespace)
  }
}

/** Reports progress and passes each polled sequence on. */
function counterOf (id: string, lastSeq: number, each: (applied: number) => void): (applied: number) => void {
  const report = counter(`${id}: credreg daemon applied`, lastSeq)
  return (applied) => {
    each(applied)
    report(applied)
  }
}

async function natsKv (env: BenchEnv, rows: Row[]): Promise<void> {
  const { catchUpChanges: changes, catchUpKeys: keys } = env.sizes
  await using bucket = await openBucket(env, NAMESPACE, Math.min(64, Math.ceil(changes / keys)))
  await pipelined(changes, Math.min(64, keys), async i => await bucket.kv.put(key(i % keys), valueBytes(i % keys, i)), counter(`${ID}: NATS KV changes landing`, changes))
  progress(`${ID}: NATS KV watcher catching up`)
  const remote = await bucket.remote()
  const started = performance.now()
  const watcher = await remote.watch({ include: 'history' })
  let seen = 0
  for await (const _ of watcher) {
    if (++seen === changes) break
  }
  const seconds = (performance.now() - started) / 1000
  watcher.stop()
  rows.push(rateRow(ID, 'NATS KV', 'kv.watch of all history on a new connection, until all were received', changes, changes / seconds, { seconds: round(seconds) }))
}

async function etcd (env: BenchEnv, space: EtcdSpace, rows: Row[]): Promise<void> {
  const { catchUpChanges: changes, catchUpKeys: keys } = env.sizes
  const before = Number((await space.ns.put('start').value('').exec()).header.revision)
  await loadEtcd(space.ns, keys, changes, counter(`${ID}: etcd changes landing`, changes))
  progress(`${ID}: etcd watcher catching up`)
  const started = performance.now()
  const watcher = await space.remote().watch().prefix('svc/').startRevision(String(before + 1)).create()
  await new Promise<void>(resolve => {
    let seen = 0
    watcher.on('put', () => { if (++seen === changes) resolve() })
  })
  const seconds = (performance.now() - started) / 1000
  await watcher.cancel()
  rows.push(rateRow(ID, 'etcd', 'watch from the revision before the changes, until all were received', changes, changes / seconds, { seconds: round(seconds) }))
}

await runIfMain(import.meta, scenario)
