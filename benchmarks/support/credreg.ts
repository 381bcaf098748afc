/**
 * credreg's side of a scenario: in-process nodes on their own data dirs, one
 * namespace (one stream) per scenario, dropped at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { streamName } from '../../lib/log/jetstream-log.js'
import { openNode } from '../../lib/node.js'
import type { CredregNode } from '../../lib/types.js'
import { key, value } from './data.js'
import type { BenchEnv } from './env.js'
import { pipelined } from './stats.js'

const READY_TIMEOUT_MS = 20_000

/** A node and where its replica lives. */
export type BenchNode = CredregNode & { readonly dataDir: string }

/** A fresh short dir under the run's temp dir (data dirs, sockets). */
export async function scratchDir (env: BenchEnv, name: string): Promise<string> {
  return await mkdtemp(join(env.dir, `${name}-`))
}

/** Opens a node on `namespace` (on a fresh data dir unless given one) without waiting for NATS. */
export async function openRawNode (env: BenchEnv, namespace: string, name: string, dataDir?: string): Promise<BenchNode> {
  const dir = dataDir ?? await scratchDir(env, name)
  const node = await openNode({ dataDir: dir, dataKey: { file: env.keyFile }, namespace, nats: { servers: env.nats.url, name: `bench ${name}` } })
  return Object.assign(node, { dataDir: dir })
}

/** Opens a node on `namespace` and resolves once it is connected and the stream exists. */
export async function openBenchNode (env: BenchEnv, namespace: string, name: string, dataDir?: string): Promise<BenchNode> {
  const node = await openRawNode(env, namespace, name, dataDir)
  await waitForStream(env, namespace)
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(await node.nodeStatus()).connected) {
    if (Date.now() > deadline) throw new Error(`node ${name} did not connect within ${READY_TIMEOUT_MS} ms`)
    await sleep(20)
  }
  return node
}

/** Closes `node` and removes its data dir. */
export async function discardNode (node: BenchNode): Promise<void> {
  await node.close()
  await rm(node.dataDir, { recursive: true, force: true })
}

/** Resolves once the namespace's stream exists (a node creates it on its first identity check). */
export async function waitForStream (env: BenchEnv, namespace: string): Promise<void> {
  const jsm = await jetstreamManager(env.nc)
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (await jsm.streams.info(streamName(namespace)).then(() => true, () => false)) return
    if (Date.now() > deadline) throw new Error(`stream ${streamName(namespace)} was not created within ${READY_TIMEOUT_MS} ms`)
    await sleep(20)
  }
}

/** The sequence of the newest record in the namespace's stream. */
export async function streamLastSeq (env: BenchEnv, namespace: string): Promise<number> {
  const jsm = await jetstreamManager(env.nc)
  return (await jsm.streams.info(streamName(namespace))).state.last_seq
}

/** Deletes the namespace's stream (after every node of it closed), freeing the server's disk and memory. */
export async function dropNamespace (env: BenchEnv, namespace: string): Promise<void> {
  const jsm = await jetstreamManager(env.nc)
  await jsm.streams.delete(streamName(namespace)).catch(() => {})
}

/** Writes keys 0‥count-1 through `node`, 16 at a time; resolves with each key's version and the last sequence. */
export async function loadNode (node: CredregNode, count: number): Promise<{ versions: number[], lastSeq: number }> {
  const versions = new Array<number>(count).fill(0)
  let lastSeq = 0
  await pipelined(count, 16, async (n) => {
    const r = await node.put(key(n), value(n))
    versions[n] = r.version
    lastSeq = Math.max(lastSeq, r.seq)
  })
  return { versions, lastSeq }
}
