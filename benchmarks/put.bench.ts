/**
 * Scenario 2, conditional put: each write names the version it replaces,
 * on existing keys, with 1 writer and with 16 concurrent writers on distinct
 * keys. credreg: `put(key, value, { ifVersion })` committed to the log and
 * applied locally, in process and through the daemon; NATS KV:
 * `update(key, value, revision)`; etcd: a transaction on `mod_revision`.
 * credreg runs twice: in open mode, then under a policy that grants the
 * node and the daemon their writes (each record signed by its host key),
 * reported beside the open-mode figures.
 */
import { connect } from '../lib/client/client.js'
import type { Row, System } from './support/results.js'
import { runIfMain } from './support/cli.js'
import { discardNode, dropNamespace, loadNode, openBenchNode } from './support/credreg.js'
import { key, spread, value, valueBytes } from './support/data.js'
import { etcdUpdate, loadEtcd } from './support/etcd.js'
import { loadBucket, openBucket } from './support/nats-kv.js'
import { progress } from './support/progress.js'
import { BenchPolicy, type Writer } from './support/policy.js'
import { besideOpenMode, measuredRow } from './support/rows.js'
import { withDaemon, withEtcd, type Scenario } from './support/scenario.js'
import { measure, measureConcurrent } from './support/stats.js'
import type { Sizes } from './support/sizes.js'
import type { BenchEnv } from './support/env.js'

const NAMESPACE = 'bput'

/** A conditional write of key n on top of `expected`; resolves with the new version or revision. */
type Update = (n: number, expected: number) => Promise<number>

/** One credreg run: its scenario ids (1 writer, 16), namespace, and whether under a policy. */
interface Mode { one: string, many: string, namespace: string, signed: boolean }
const OPEN: Mode = { one: 'put-1', many: 'put-16', namespace: NAMESPACE, signed: false }
const SIGNED: Mode = { one: 'put-1-signed', many: 'put-16-signed', namespace: `${NAMESPACE}s`, signed: true }

export const scenario: Scenario = {
  id: 'put',
  run: async (env, rows) => {
    await credreg(env, rows, OPEN)
    await credreg(env, rows, SIGNED)

    {
      await using bucket = await openBucket(env, NAMESPACE)
      const revisions = await loadBucket(bucket.kv, env.sizes.putKeys)
      rows.push(...await both(env.sizes, OPEN, 'NATS KV', 'kv.update(key, value, revision)', revisions, async (n, r) => await bucket.kv.update(key(n), valueBytes(n, r), r)))
    }

    await withEtcd(env, rows, 'put-1', NAMESPACE, async ({ ns }) => {
      const revisions = await loadEtcd(ns, env.sizes.putKeys)
      rows.push(...await both(env.sizes, OPEN, 'etcd', 'txn: if mod_revision == r then put', revisions, async (n, r) => {
        const next = await etcdUpdate(ns, key(n), valueBytes(n, r), r)
        if (next === undefined) throw new Error(`etcd refused ${key(n)} at mod revision ${r}: nobody else writes it`)
        return next
      }))
    })
    // A system that could not run (no daemon, no etcd) has a put-1 row saying why; put-16 needs one too.
    for (const { one, many } of [OPEN, SIGNED]) {
      for (const missing of rows.filter(r => r.scenario === one && r.status !== 'ok')) {
        if (!rows.some(r => r.scenario === many && r.system === missing.system)) rows.push({ ...missing, scenario: many })
      }
    }
  }
}

/**
 * The node's rows, then the daemon's. Under a policy, each is granted its
 * writes (node id and host key) before its keys are loaded or measured.
 */
async function credreg (env: BenchEnv, rows: Row[], mode: Mode): Promise<void> {
  const { namespace, signed } = mode
  const push = (measured: Row[]): void => { rows.push(...(signed ? measured.map(r => besideOpenMode(r, rows)) : measured)) }
  const policy = signed ? new BenchPolicy(env.nc, namespace, env.keyFile) : undefined
  const writers: Writer[] = []
  const node = await openBenchNode(env, namespace, 'put-node')
  let versions: number[]
  let lastSeq: number
  try {
    if (policy !== undefined) {
      const { nodeId, identity } = await node.nodeStatus()
      writers.push({ name: nodeId, key: identity.publicKey })
      await node.waitForApplied(await policy.grant(writers))
    }
    ({ versions, lastSeq } = await loadNode(node, env.sizes.putKeys))
    push(await both(env.sizes, mode, 'credreg node', 'node.put with ifVersion', versions, async (n, v) => (await node.put(key(n), value(n, v), { ifVersion: v })).version))
    lastSeq = (await node.nodeStatus()).appliedSeq
  } finally {
    await discardNode(node)
  }
  await withDaemon(env, rows, mode.one, namespace, lastSeq, async (daemon) => {
    if (policy !== undefined) {
      const { nodeId, identity } = await daemon.client.status()
      writers.push({ name: nodeId, key: identity.publicKey })
      await daemon.waitApplied(await policy.grant(writers))
    }
    await using client = connect({ socket: daemon.socket })
    push(await both(env.sizes, mode, 'credreg daemon', 'client.put with ifVersion (If-Match)', versions, async (n, v) => (await client.put(key(n), value(n, v), { ifVersion: v })).version))
  })
  await dropNamespace(env, namespace)
}

/** The 1-writer and the 16-writer rows of one system; `current` tracks each key's version or revision. */
async function both (sizes: Sizes, { one: oneId, many: manyId }: Pick<Mode, 'one' | 'many'>, system: System, note: string, current: number[], update: Update): Promise<Row[]> {
  const write = async (n: number): Promise<void> => { current[n] = await update(n, current[n] as number) }
  progress(`${oneId}: ${system}`)
  const one = await measure(sizes.putOps, async i => await write(spread(i, sizes.putKeys)))
  progress(`${manyId}: ${system}, ${sizes.putWriters} writers`)
  // Writer w owns the keys n ≡ w (mod writers): distinct keys, no conflicts.
  const perWriter = Math.floor(sizes.putKeys / sizes.putWriters)
  const many = await measureConcurrent(sizes.putWriters, sizes.putOpsPerWriter, async (w, i) => await write(w + sizes.putWriters * (i % perWriter)))
  return [
    measuredRow(oneId, system, note, one),
    measuredRow(manyId, system, `${note}, ${sizes.putWriters} writers on distinct keys`, many)
  ]
}

await runIfMain(import.meta, scenario)
