import t from 'tap'
import type { NodeRow } from '../../lib/shapes/node-row.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const nats = await startNatsServer()
t.teardown(() => nats.stop())
const keyFile = await writeKeyFile()
const daemons = await Promise.all([1, 2, 3].map(async () => await startDaemon({ nats: nats.url, keyFile }))) as [DaemonProcess, DaemonProcess, DaemonProcess]
t.teardown(() => Promise.all(daemons.map(async d => await d.stop())))
const [a, b, c] = daemons

const nodes = async (d: DaemonProcess, query = ''): Promise<NodeRow[]> => (await d.request('GET', `/v1/nodes${query}`)).json as NodeRow[]
const byId = (rows: NodeRow[]): Map<string, NodeRow> => new Map(rows.map(r => [r.nodeId, r]))

t.test('every daemon lists all three, itself first, with their applied sequence', async t => {
  for (const d of daemons) {
    const rows = await eventually(async () => {
      const r = await nodes(d)
      return r.length === 3 ? r : undefined
    }, `three nodes on ${d.nodeId}`)
    t.equal(rows[0]?.nodeId, d.nodeId, 'itself first')
    t.same(new Set(rows.map(r => r.nodeId)), new Set(daemons.map(x => x.nodeId)))
    for (const row of rows) {
      t.match(row, { hostname: String, state: 'alive', appliedSeq: Number, lag: Number, lastSeenS: Number, version: String, startedAt: String })
      t.notOk('keyVersion' in row, 'no key asked, no key version')
    }
  }
})

t.test('?key= shows the version each node holds, and which node lags behind a fresh write', async t => {
  const first = await a.request('PUT', '/v1/entities/fleet/db', { body: { v: 1 } })
  t.equal(first.status, 201)
  const settled = await eventually(async () => {
    const rows = await nodes(a, '?key=fleet/db')
    return rows.every(r => r.keyVersion === 1 && r.lag === 0) ? rows : undefined
  }, 'version 1 everywhere, and heard of')
  const appliedBefore = byId(settled).get(c.nodeId)?.appliedSeq

  c.pause()
  t.teardown(() => c.resume())
  t.equal((await a.request('PUT', '/v1/entities/fleet/db', { body: { v: 2 } })).status, 200)
  await eventually(async () => (await b.request('GET', '/v1/entities/fleet/db')).json.version === 2, 'version 2 on B')

  // B's row is as of its last membership record: at most an interval (and A's read cache) behind.
  const lagging = await eventually(async () => {
    const rows = byId(await nodes(a, '?key=fleet/db'))
    return rows.get(b.nodeId)?.keyVersion === 2 ? rows : undefined
  }, 'A to read that B applied version 2')
  t.equal(lagging.get(a.nodeId)?.keyVersion, 2)
  t.equal(lagging.get(b.nodeId)?.keyVersion, 2)
  t.equal(lagging.get(c.nodeId)?.keyVersion, 1, 'the paused node holds version 1, as its applied sequence tells')
  t.equal(lagging.get(c.nodeId)?.appliedSeq, appliedBefore, 'its last membership record predates the write')
  t.ok((lagging.get(c.nodeId)?.lag ?? 0) >= 1, 'so it shows as lagging')
  t.equal(lagging.get(a.nodeId)?.lag, 0)

  c.resume()
  const caughtUp = await eventually(async () => {
    const rows = await nodes(a, '?key=fleet/db')
    return rows.every(r => r.keyVersion === 2 && r.lag === 0) ? rows : undefined
  }, 'version 2 everywhere')
  t.equal(caughtUp.length, 3)
  t.ok(caughtUp.every(r => r.appliedSeq === caughtUp[0]?.appliedSeq), 'one applied sequence everywhere')
  const never = await nodes(b, '?key=fleet/never')
  t.ok(never.every(r => r.keyVersion === 0), 'a key nobody holds is version 0 everywhere')
})
