/**
 * startPeers without a daemon: two apps each embed a node (openNode with
 * NATS) and run the peers over a NATS connection of their own; each lists the
 * other, the version of a key each holds is told from its applied sequence,
 * ignored records reach the injected counter, and close() leaves the app's
 * connection open.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import t from 'tap'
import { startPeers, type NodeInfo, type Peers } from '../../lib/index.js'
import type { CredregNode } from '../../lib/types.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, testNode } from '../fixtures/nodes.js'

const INTERVAL_MS = 100
const server = await startNatsServer()
t.teardown(async () => await server.stop())
const nats = { servers: server.url }
const dataKey = newDataKey()

interface App { node: CredregNode, nc: NatsConnection, peers: Peers, ignored: string[] }

async function app (name: string): Promise<App> {
  const node = await testNode(t, { dataKey, nats, namespace: 'room', nodeId: name })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const ignored: string[] = []
  const peers = startPeers({ node, nc, self: { hostname: `${name}.example` }, intervalMs: INTERVAL_MS, onIgnored: (kind, reason) => ignored.push(`${kind} ${reason}`) })
  t.teardown(async () => await peers.close())
  return { node, nc, peers, ignored }
}

const a = await app('app-a')
const b = await app('app-b')
const ids = (rows: NodeInfo[]): string[] => rows.map(r => r.nodeId)

t.test('each embedded node lists itself first, then the other, alive', async t => {
  for (const [me, other] of [[a, b], [b, a]] as const) {
    const rows = await eventually(async () => { const r = await me.peers.nodes(); return r.length === 2 ? r : undefined }, `${me.node.nodeId} to hear ${other.node.nodeId}`)
    t.same(ids(rows), [me.node.nodeId, other.node.nodeId], `${me.node.nodeId} lists itself, then ${other.node.nodeId}`)
    t.match(rows[0], { hostname: `${me.node.nodeId}.example`, state: 'alive', lastSeenS: 0 })
    t.match(rows[1], { hostname: `${other.node.nodeId}.example`, state: 'alive', appliedSeq: Number, version: String, startedAt: String })
  }
})

t.test('the version each node holds is told from its applied sequence', async t => {
  await a.node.put('app/db', { password: 'one' })
  await a.node.put('app/db', { password: 'two' })
  await caughtUp(b.node)
  for (const [me, other] of [[a, b], [b, a]] as const) {
    const rows = await me.peers.nodes('app/db')
    await eventually(async () => (await me.peers.nodes()).every(r => r.appliedSeq === rows[0]?.appliedSeq), `${me.node.nodeId} to read the other's applied sequence`)
    t.same((await me.peers.nodes('app/db')).map(r => [r.nodeId, r.keyVersion]), [[me.node.nodeId, 2], [other.node.nodeId, 2]], `${me.node.nodeId} holds version 2 and knows the other does`)
  }
  t.same((await a.peers.nodes('app/never')).map(r => r.keyVersion), [0, 0], 'a key nobody holds is version 0 everywhere')
})

t.test('ignored membership records reach the injected counter', async t => {
  await jetstream(a.nc).publish('credreg.room.m.ghost', JSON.stringify({ v: 3, namespace: 'room', nodeId: 'ghost' }))
  await eventually(async () => { await b.peers.nodes(); return b.ignored.includes('heartbeat malformed') }, 'the untagged record to be counted')
  t.notOk(ids(await b.peers.nodes()).includes('ghost'), 'and not listed')
})

t.test('the membership stream was created by the first node: one record per node, in memory', async t => {
  const info = await (await jetstreamManager(a.nc)).streams.info('CREDREG-MEMBERS_room')
  t.match(info.config, { subjects: ['credreg.room.m.*'], max_msgs_per_subject: 1, storage: 'memory', max_age: 63 * INTERVAL_MS * 1e6 })
})

t.test('close() stops the heartbeats, lists only this node and leaves the connection open', async t => {
  await a.peers.close()
  await a.peers.close()
  t.same(ids(await a.peers.nodes()), [a.node.nodeId], 'only itself')
  t.notOk(a.nc.isClosed(), 'the app still owns its connection')
  const gone = await eventually(async () => (await b.peers.nodes()).find(r => r.nodeId === a.node.nodeId && r.state === 'gone'), 'B to see A gone')
  t.ok(gone.lastSeenS >= 3 * INTERVAL_MS / 1000, `the other shows it gone, last seen ${gone.lastSeenS} s ago`)
})

t.test('misuse throws a TypeError', async t => {
  t.throws(() => startPeers({ node: {} as unknown as CredregNode, nc: b.nc }), TypeError, 'a node not opened by openNode')
  t.throws(() => startPeers({ node: b.node, nc: b.nc, intervalMs: 0 }), TypeError, 'an interval that is not a positive integer')
  t.throws(() => startPeers({ node: b.node, nc: b.nc, replicas: 7 }), TypeError, 'replicas beyond what a stream may have')
})
