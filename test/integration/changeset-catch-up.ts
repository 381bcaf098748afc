/**
 * A node offline while two others land a thousand changesets and single
 * writes over thirty keys, with a per-key limit small enough that the log
 * drops most records the offline node never read. Changeset records are
 * never dropped by it: the node comes back, applies every one of them whole,
 * and ends with the very state and history of the others.
 */
import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { rm } from 'node:fs/promises'
import { isCredregError } from '../../lib/errors.js'
import { streamName } from '../../lib/log/jetstream-log.js'
import { onApplied, openNode } from '../../lib/node.js'
import type { Change, CommitResult, CredregNode, Entity } from '../../lib/types.js'
import { replicaStateOf, watchNode } from '../fixtures/changesets.js'
import { eventually } from '../fixtures/eventually.js'
import { checkChangesets } from '../fixtures/history/changesets.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, divergence, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'

const KEYS = Array.from({ length: 30 }, (_, i) => `mix/${i}`)
const DEPTH = 5
const WHILE_ONLINE = 100
const WHILE_OFFLINE = 1_000

/** A seeded PRNG, so a failing run can be replayed. */
function prng (seed: number): (n: number) => number {
  let a = seed >>> 0
  return n => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n)
  }
}

/** What the writers landed: every changeset acknowledged, and how many writes of each kind. */
interface Landed { changesets: CommitResult[], singles: number, refused: number }

/**
 * Lands `count` writes through `node`: a third changesets of 2 to 4 keys,
 * the rest single writes; puts, merges, patches and deletes, each chosen to
 * suit the key as the node sees it. The other writer may get there first:
 * what it makes fail (a delete of a key just deleted) is refused and tried anew.
 */
async function land (node: CredregNode, count: number, random: (n: number) => number, landed: Landed): Promise<void> {
  const exists = async (key: string): Promise<Entity | undefined> => await node.get(key).catch((err: unknown) => {
    if (isCredregError(err, 'NOT_FOUND')) return undefined
    throw err
  })
  const changeOf = (key: string, live: boolean, i: number): Change => {
    if (!live) return { key, op: 'put', value: { by: node.nodeId, i } }
    switch (random(4)) {
      case 0: return { key, op: 'put', value: { by: node.nodeId, i } }
      case 1: return { key, op: 'merge', patch: { merged: i } }
      case 2: return { key, op: 'patch', ops: [{ op: 'add', path: '/patched', value: i }] }
      default: return { key, op: 'delete' }
    }
  }
  for (let i = 0; i < count;) {
    try {
      if (random(3) === 0) {
        const keys = new Set<string>()
        const size = 2 + random(3)
        while (keys.size < size) keys.add(KEYS[random(KEYS.length)] as string)
        const changes = await Promise.all([...keys].map(async key => changeOf(key, await exists(key) !== undefined, i)))
        landed.changesets.push(await node.commit(changes))
      } else {
        const key = KEYS[random(KEYS.length)] as string
        const change = changeOf(key, await exists(key) !== undefined, i)
        if (change.op === 'put') await node.put(key, change.value)
        else if (change.op === 'merge') await node.merge(key, change.patch)
        else if (change.op === 'patch') await node.patch(key, change.ops)
        else await node.delete(key)
        landed.singles++
      }
      i++
    } catch (err) {
      if (!isCredregError(err, 'NOT_FOUND') && !isCredregError(err, 'VERSION_CONFLICT')) throw err
      landed.refused++
    }
  }
}

t.test('a node offline while 1,000 changesets and single writes land, past the per-key limit, applies every changeset and ends with the same state and history', async t => {
  const server = await startNatsServer()
  t.teardown(async () => { await server.stop() })
  const dataKey = newDataKey()
  const options = { dataKey, nats: { servers: server.url }, namespace: 'mixed', historyDepth: DEPTH }
  const [a, b] = await Promise.all([testNode(t, options), testNode(t, options)])
  const dir = await tempDir(t)
  const sleeper = await openNode({ ...options, dataDir: dir })
  const random = prng(20_261_129)
  const before: Landed = { changesets: [], singles: 0, refused: 0 }
  await Promise.all([land(a!, WHILE_ONLINE / 2, random, before), land(b!, WHILE_ONLINE / 2, random, before)])
  await caughtUp(sleeper)
  const { appliedSeq: left } = await sleeper.nodeStatus()
  await sleeper.close()

  const offline: Landed = { changesets: [], singles: 0, refused: 0 }
  await Promise.all([land(a!, WHILE_OFFLINE / 2, random, offline), land(b!, WHILE_OFFLINE / 2, random, offline)])
  await Promise.all([caughtUp(a!), caughtUp(b!)])
  t.ok(offline.changesets.length > 200 && offline.singles > 500, `${offline.changesets.length} changesets and ${offline.singles} single writes landed meanwhile (${offline.refused} refused on the way)`)

  const nc = await connect({ servers: server.url })
  const { state } = await (await jetstreamManager(nc)).streams.info(streamName('mixed'))
  await nc.close()
  const dropped = state.last_seq - state.messages
  t.ok(dropped > WHILE_OFFLINE / 4, `the per-key limit dropped ${dropped} of the log's ${state.last_seq} records, most of them among the ${state.last_seq - left} the offline node never read`)

  const back = await testNode(t, { ...options, dataDir: dir })
  const applied = new Map<string, Set<number>>()
  const stop = onApplied(back, changes => {
    for (const { stored } of changes) {
      if (stored.changeset === undefined) continue
      const seen = applied.get(stored.changeset.id) ?? new Set()
      applied.set(stored.changeset.id, seen.add(stored.changeset.index))
    }
  })
  t.teardown(stop)
  const watcher = watchNode('back', back, 'mix/', left)
  await caughtUp(back, 60_000)
  await watcher.until(changes => (changes.at(-1)?.seq ?? 0) >= state.last_seq || state.last_seq === left)
  await watcher.stop()

  const whole = offline.changesets.filter(c => applied.get(c.id)?.size === c.results.length)
  t.equal(whole.length, offline.changesets.length, `every changeset landed while it was offline was applied by the node coming back, whole (${whole.length} of ${offline.changesets.length})`)
  // A single write racing a changeset can land on the version the changeset took: every replica refuses
  // it (stale-version). The node coming back refuses no more than that, of what is still in the log.
  const [{ rejected: refusedBack }, { rejected: refusedA }] = await Promise.all([back.nodeStatus(), a!.nodeStatus()])
  t.same(Object.keys(refusedBack).filter(reason => reason !== 'stale-version'), [], 'it refused nothing but a write that lost to a changeset')
  t.ok((refusedBack['stale-version'] ?? 0) <= (refusedA['stale-version'] ?? 0), 'each of those refused by the first writer too')
  const [theirs, mine, others] = await Promise.all([snapshot(a!), snapshot(back), snapshot(b!)])
  t.same(mine, theirs, 'the same state and history as the first writer')
  t.same(others, theirs, 'which the second writer holds too')

  // Each changeset's versions still retained (the newest DEPTH of a key, deletes included) are in its history as the changeset's.
  const missing: string[] = []
  let retained = 0
  for (const c of [...before.changesets, ...offline.changesets]) {
    for (const [index, { key, version }] of c.results.entries()) {
      const history = await back.history(key)
      if ((history.at(-1)?.version ?? 0) - version >= DEPTH) continue
      retained++
      const entry = history.find(h => h.version === version)
      if (entry?.changeset?.id !== c.id || entry.changeset.index !== index) missing.push(`${key} v${version} of ${c.id}`)
    }
  }
  t.same(missing, [], `every retained version written by a changeset is in the history as that changeset's (${retained} versions)`)
  const replicas = await Promise.all([['a', a!], ['back', back], ['b', b!]].map(async ([name, node]) => await replicaStateOf(name as string, node as CredregNode, KEYS)))
  const checked = checkChangesets([], replicas, [watcher.log], DEPTH)
  t.same(checked.problems, [], 'no replica holds part of a changeset, and the watcher of the node coming back saw each whole')
  t.ok(checked.delivered >= offline.changesets.length, `its watcher got ${checked.delivered} changesets whole`)
})

t.test('after a store loss and a reseed, a node that had not applied a changeset gets it whole too', { todo: 'a reseed contributes a changeset as one record per key: such a node gets its versions as writes of their own, at separate sequences and untagged (docs/guarantees.md)' }, async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => { await server.stop() })
  const dataKey = newDataKey()
  const nats = { servers: server.url }
  const dir = await tempDir(t)
  const a = await testNode(t, { dataKey, nats })
  let b = await testNode(t, { dataKey, nats, dataDir: dir })
  await a.put('p', { n: 0 })
  await caughtUp(b)
  const { appliedSeq: left } = await b.nodeStatus()
  await b.close()
  await a.commit([{ key: 'p', op: 'put', value: { n: 1 } }, { key: 'q', op: 'put', value: { n: 1 } }])
  await server.kill()
  await rm(storeDir, { recursive: true, force: true })
  await server.restart()
  await divergence(a)
  await a.reseed()
  b = await testNode(t, { dataKey, nats, dataDir: dir })
  const watcher = watchNode('b', b, '', left)
  await eventually(async () => {
    const s = await b.nodeStatus()
    return s.diverged === undefined && s.connected && s.lag === 0 && (await b.get('q').catch(() => undefined)) !== undefined
  }, 'the node to take on the reseeded log')
  await watcher.until(changes => changes.some(c => c.key === 'q'))
  await watcher.stop()
  const replicas = await Promise.all([replicaStateOf('a', a, ['p', 'q']), replicaStateOf('b', b, ['p', 'q'])])
  t.same(checkChangesets([], replicas, [watcher.log]).problems, [], 'it holds the changeset as one, and its watcher saw it as one')
})
