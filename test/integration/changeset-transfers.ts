/**
 * Transfers between two accounts, each a changeset of both keys conditional
 * on the versions read: three nodes of one namespace, six clients (two per
 * node) racing. Whatever the interleaving, the two balances always sum to
 * the same constant — in the end, in every replica, in every snapshot taken
 * during the run and after every whole changeset of every watcher's stream —
 * and the number of transfers committed is what the second account gained.
 * Then the same on a three-server cluster (R3 stream) with a server SIGKILLed
 * and restarted mid-run.
 */
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { isCredregError } from '../../lib/errors.js'
import { streamName } from '../../lib/log/jetstream-log.js'
import type { ChangeEvent, CredregNode, NatsOptions } from '../../lib/types.js'
import { foldWhole, replicaStateOf, watchNode, type NodeWatcher } from '../fixtures/changesets.js'
import { streamLeader } from '../fixtures/faults/faults.js'
import { checkChangesets } from '../fixtures/history/changesets.js'
import { startNatsCluster, waitForJetStream } from '../fixtures/nats-cluster.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, testNode } from '../fixtures/nodes.js'
import { connect, type CredregClient } from '../../lib/client/client.js'
import { startDaemon, writeKeyFile } from '../fixtures/daemon.js'

const A = 'acct/a'
const B = 'acct/b'
const TOTAL = 10_000
const CLIENTS_PER_NODE = 2

interface Balance { n: number }

/** What the clients did: changesets acknowledged, refused (a conflict) and of unknown outcome, by correlation id. */
interface Ledger {
  acknowledged: Set<string>
  refused: Set<string>
  unknown: Set<string>
  conflicts: number
  failures: string[]
}

/** What a transfer reads and commits through: a node, or a client of a daemon. */
type Teller = Pick<CredregNode, 'get' | 'commit'>

/** Read both balances, move one unit from a to b conditional on both versions read; again on a conflict. */
async function transfer (node: Teller, ledger: Ledger, tolerate: boolean): Promise<void> {
  for (;;) {
    const [a, b] = await Promise.all([node.get(A), node.get(B)])
    const correlationId = randomUUID()
    try {
      await node.commit([
        { key: A, op: 'put', value: { n: (a.value as unknown as Balance).n - 1 }, ifVersion: a.version },
        { key: B, op: 'put', value: { n: (b.value as unknown as Balance).n + 1 }, ifVersion: b.version }
      ], { correlationId })
      ledger.acknowledged.add(correlationId)
      return
    } catch (err) {
      if (isCredregError(err, 'VERSION_CONFLICT')) {
        ledger.refused.add(correlationId)
        ledger.conflicts++
        continue
      }
      // While a server is down a commit may fail, or time out having landed or not: the watchers tell.
      if (!tolerate || !isCredregError(err) || !err.retryable) throw err
      ledger.unknown.add(correlationId)
      ledger.failures.push(err.code)
      await sleep(100)
    }
  }
}

/**
 * Snapshots taken over and over while the clients run: `list` (one LevelDB
 * snapshot) must show both keys at the same version (every write of them is
 * a changeset of both), the values of those versions (when still retained)
 * must sum to the total, and so must every changeset in both keys' histories.
 */
function sampleSnapshots (nodes: CredregNode[]): { stop: () => Promise<{ taken: number, problems: string[] }> } {
  const problems: string[] = []
  let taken = 0
  const stopped = new AbortController()
  const retained = async (node: CredregNode, key: string, version: number): Promise<number | undefined> => {
    try {
      return ((await node.get(key, { version })).value as unknown as Balance).n
    } catch (err) {
      if (isCredregError(err, 'NOT_FOUND')) return undefined
      throw err
    }
  }
  const loop = Promise.all(nodes.map(async node => {
    while (!stopped.signal.aborted) {
      const { items } = await node.list('acct/')
      const [a, b] = [items.find(i => i.key === A), items.find(i => i.key === B)]
      if (a === undefined || b === undefined || a.version !== b.version) {
        problems.push(`${node.nodeId}: list shows ${JSON.stringify(items.map(i => [i.key, i.version]))}`)
      } else {
        const [na, nb] = await Promise.all([retained(node, A, a.version), retained(node, B, b.version)])
        if (na !== undefined && nb !== undefined && na + nb !== TOTAL) problems.push(`${node.nodeId}: version ${a.version} holds ${na} + ${nb}`)
      }
      const [ha, hb] = await Promise.all([node.history(A), node.history(B)])
      const ofB = new Map(hb.map(h => [h.changeset?.id, h]))
      for (const ea of ha) {
        const eb = ofB.get(ea.changeset?.id)
        if (ea.changeset === undefined || eb === undefined) continue
        const sum = (ea.value as unknown as Balance).n + (eb.value as unknown as Balance).n
        if (sum !== TOTAL || ea.version !== eb.version) problems.push(`${node.nodeId}: changeset ${ea.changeset.id} holds v${ea.version} + v${eb.version} = ${sum}`)
      }
      taken++
      await sleep(5)
    }
  }))
  return {
    stop: async () => {
      stopped.abort()
      await loop
      return { taken, problems }
    }
  }
}

/** The correlation ids of the changesets a watcher saw, in order, and where its whole-changeset states broke the sum. */
function readStream (changes: ChangeEvent[]): { applied: string[], broken: string[] } {
  const applied: string[] = []
  const broken: string[] = []
  for (const change of changes) if (change.changeset?.index === 0) applied.push(change.meta.correlationId)
  foldWhole(changes, (state, at) => {
    const [a, b] = [state.get(A), state.get(B)]
    if (a === undefined || b === undefined) return
    const sum = (a.value as unknown as Balance).n + (b.value as unknown as Balance).n
    if (sum !== TOTAL || a.version !== b.version) broken.push(`after event ${at} (seq ${changes[at]?.seq ?? '?'}): v${a.version} + v${b.version} = ${sum}`)
  })
  return { applied, broken }
}

interface RunOptions {
  nats: (i: number) => NatsOptions
  transfers: number
  /** Runs once the clients have committed `after.transfers` between them; they go on meanwhile. */
  fault?: { transfers: number, run: () => Promise<void> }
  writeTimeoutMs?: number
}

async function runTransfers (t: Test, { nats, transfers, fault, writeTimeoutMs }: RunOptions): Promise<void> {
  const dataKey = newDataKey()
  const namespace = 'bank'
  const nodes = await Promise.all([0, 1, 2].map(async i => await testNode(t, { dataKey, namespace, nats: nats(i), ...(writeTimeoutMs !== undefined ? { writeTimeoutMs } : {}) })))
  // Watchers from before the first write: each sees every changeset.
  const watchers: NodeWatcher[] = nodes.map((node, i) => watchNode(`w${i}`, node, 'acct/'))
  t.teardown(async () => { await Promise.allSettled(watchers.map(async w => { await w.stop() })) })
  const opened = await nodes[0]!.commit([
    { key: A, op: 'put', value: { n: TOTAL }, ifAbsent: true },
    { key: B, op: 'put', value: { n: 0 }, ifAbsent: true }
  ])
  await Promise.all(nodes.map(async node => { await node.waitForApplied(opened.seq, 20_000) }))

  const ledger: Ledger = { acknowledged: new Set(), refused: new Set(), unknown: new Set(), conflicts: 0, failures: [] }
  const sampler = sampleSnapshots(nodes)
  const started = Date.now()
  const clients = nodes.flatMap(node => Array.from({ length: CLIENTS_PER_NODE }, async () => {
    for (let i = 0; i < transfers; i++) await transfer(node, ledger, fault !== undefined)
  }))
  let faulted = false
  if (fault !== undefined) {
    while (ledger.acknowledged.size < fault.transfers) await sleep(20)
    await fault.run()
    faulted = true
  }
  const settled = await Promise.allSettled(clients)
  const { taken, problems } = await sampler.stop()
  const elapsed = Date.now() - started
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  if (fault !== undefined) t.ok(faulted, 'the fault was injected during the run')
  const expected = nodes.length * CLIENTS_PER_NODE * transfers
  t.equal(ledger.acknowledged.size, expected, `${expected} transfers acknowledged in ${elapsed} ms, after ${ledger.conflicts} conflicts` +
    (ledger.failures.length > 0 ? ` and ${ledger.failures.length} failures (${[...new Set(ledger.failures)].join(', ')})` : ''))
  t.ok(ledger.conflicts > 0, 'the clients raced: conflicts were refused and retried')

  await Promise.all(nodes.map(async node => { await caughtUp(node, 30_000) }))
  const finals = await Promise.all(nodes.map(async node => await Promise.all([node.get(A), node.get(B)])))
  const [first] = finals
  const [fa, fb] = first!
  const gained = (fb.value as unknown as Balance).n
  for (const [i, [a, b]] of finals.entries()) {
    t.equal((a.value as unknown as Balance).n + (b.value as unknown as Balance).n, TOTAL, `node ${i}: the balances sum to ${TOTAL}`)
    t.same([a.version, b.version, a.value, b.value], [fa.version, fb.version, fa.value, fb.value], `node ${i}: the same balances as node 0`)
  }
  t.equal(fb.version, gained + 1, 'one version of b per transfer, after the opening one')

  // Every watcher ends at the final versions, having seen every changeset whole, in the same order.
  await Promise.all(watchers.map(async w => { await w.until(changes => changes.some(c => c.key === B && c.version === fb.version)) }))
  const streams = watchers.map(w => readStream(w.changes))
  for (const [i, stream] of streams.entries()) {
    t.same(stream.broken, [], `watcher ${i}: after each whole changeset of its stream the balances sum to ${TOTAL}`)
    t.same(stream.applied, streams[0]!.applied, `watcher ${i}: the same changesets in the same order as watcher 0`)
  }
  const applied = new Set(streams[0]!.applied.slice(1))
  t.equal(applied.size, gained, `the transfers that landed (${applied.size}) are what b gained (${gained})`)
  t.same([...ledger.acknowledged].filter(id => !applied.has(id)), [], 'every acknowledged transfer landed')
  t.same([...ledger.refused].filter(id => applied.has(id)), [], 'no refused transfer landed')
  const landedUnknown = [...ledger.unknown].filter(id => applied.has(id)).length
  t.equal(applied.size, ledger.acknowledged.size + landedUnknown, `nothing else landed (${landedUnknown} of ${ledger.unknown.size} of unknown outcome did)`)

  t.same(problems, [], `${taken} snapshots taken during the run, each consistent`)
  t.ok(taken >= nodes.length, 'snapshots were taken on every node')
  const replicas = await Promise.all(nodes.map(async (node, i) => await replicaStateOf(`n${i}`, node, [A, B])))
  const checked = checkChangesets([], replicas, watchers.map(w => w.log))
  t.same(checked.problems, [], 'no replica holds, and no watcher saw, part of a changeset')
  t.equal(checked.delivered, watchers.length * (applied.size + 1), 'each watcher got every changeset whole')
  const [one, ...rest] = await Promise.all(nodes.map(snapshot))
  for (const other of rest) t.same(other, one, 'the replicas are identical, entities and history')
}

t.test('6 clients on 3 nodes x 100 transfers between two keys: the sum holds everywhere, always', async t => {
  const server = await startNatsServer()
  t.teardown(async () => { await server.stop() })
  await runTransfers(t, { nats: () => ({ servers: server.url }), transfers: 100 })
})

t.test('the same on a 3-server cluster, R3 stream, with the stream leader SIGKILLed mid-run and restarted', async t => {
  const cluster = await startNatsCluster()
  t.teardown(async () => { await cluster.stop() })
  // Each node prefers another server, so the killed one had clients.
  const nats = (i: number): NatsOptions => ({ servers: [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)], replicas: 3 })
  await runTransfers(t, {
    nats,
    transfers: 30,
    writeTimeoutMs: 10_000,
    fault: {
      transfers: 40,
      run: async () => {
        const leader = await streamLeader(cluster, streamName('bank'))
        const server = cluster.servers[Number(leader.slice(1)) - 1]
        if (server === undefined) throw new Error(`stream leader ${leader} is not one of the cluster's servers`)
        await server.kill()
        await sleep(2_000)
        await server.restart()
        await waitForJetStream([server.url])
      }
    }
  })
})

t.test('6 clients on 3 daemons x 50 transfers, over the HTTP API: the sum holds in every daemon, list and watcher', async t => {
  const server = await startNatsServer()
  t.teardown(async () => { await server.stop() })
  const keyFile = await writeKeyFile()
  const daemons = await Promise.all([0, 1, 2].map(async () => await startDaemon({ nats: server.url, keyFile })))
  t.teardown(async () => { await Promise.all(daemons.map(async d => await d.stop())) })
  const clients: CredregClient[] = daemons.flatMap(d => Array.from({ length: CLIENTS_PER_NODE }, () => connect({ socket: d.socket })))
  t.teardown(async () => { await Promise.all(clients.map(async c => { await c.close() })) })
  const watches = daemons.map(d => {
    const client = connect({ socket: d.socket })
    const changes: ChangeEvent[] = []
    const done = (async () => { for await (const change of client.watch('acct/')) changes.push(change) })()
    return { client, changes, done }
  })
  t.teardown(async () => {
    await Promise.all(watches.map(async w => { await w.client.close() }))
    await Promise.allSettled(watches.map(async w => await w.done))
  })
  const opened = await clients[0]!.commit([{ key: A, op: 'put', value: { n: TOTAL }, ifAbsent: true }, { key: B, op: 'put', value: { n: 0 }, ifAbsent: true }])
  t.equal(opened.results.length, 2)
  // Every daemon holds the opening balances before its clients read them.
  for (const c of clients) while (await c.get(B).then(() => false, () => true)) await sleep(20)

  const ledger: Ledger = { acknowledged: new Set(), refused: new Set(), unknown: new Set(), conflicts: 0, failures: [] }
  const listed: string[] = []
  const stopped = new AbortController()
  // One list is one snapshot: both keys always at the same version, their values summing to the total.
  const lister = (async () => {
    const c = clients[1]!
    while (!stopped.signal.aborted) {
      const { items } = await c.list('acct/')
      const [a, b] = [items.find(i => i.key === A), items.find(i => i.key === B)]
      if (a?.version !== b?.version) listed.push(JSON.stringify(items.map(i => [i.key, i.version])))
      await sleep(5)
    }
  })()
  const transfers = 50
  await Promise.all(clients.map(async c => { for (let i = 0; i < transfers; i++) await transfer(c, ledger, false) }))
  stopped.abort()
  await lister
  const expected = clients.length * transfers
  t.equal(ledger.acknowledged.size, expected, `${expected} transfers acknowledged, after ${ledger.conflicts} conflicts`)
  t.same(listed, [], 'every list showed both keys at one version')
  const finals = await Promise.all(daemons.map(async d => {
    const c = connect({ socket: d.socket })
    try {
      for (;;) {
        const [a, b] = await Promise.all([c.get(A), c.get(B)])
        if (b.version === expected + 1) return [a, b]
        await sleep(20)
      }
    } finally {
      await c.close()
    }
  }))
  for (const [i, [a, b]] of finals.entries()) {
    t.equal((a!.value as unknown as Balance).n + (b!.value as unknown as Balance).n, TOTAL, `daemon ${i}: the balances sum to ${TOTAL}`)
    t.equal((b!.value as unknown as Balance).n, expected, `daemon ${i}: b gained one per transfer`)
  }
  for (const [i, w] of watches.entries()) {
    while (!w.changes.some(c => c.key === B && c.version === expected + 1)) await sleep(20)
    const stream = readStream(w.changes)
    t.same(stream.broken, [], `watcher ${i}: after each whole changeset of its stream the balances sum to ${TOTAL}`)
    t.equal(stream.applied.length, expected + 1, `watcher ${i}: every changeset, each once`)
  }
})
