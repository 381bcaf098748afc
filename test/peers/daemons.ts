/**
 * The membership stream between real daemons, against a NATS user that can
 * write on every subject but does not hold the namespace key: forged,
 * untagged, v2, malformed and oversized records change nothing; a replayed
 * record rolls nobody back and keeps no stopped daemon alive; a stopped
 * daemon is shown gone, then dropped; 200 members joining cost a daemon no
 * extra write.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import t, { type Test } from 'tap'
import { Authenticator } from '../../lib/authenticator.js'
import { memberSubject, signHeartbeat } from '../../lib/peers/heartbeat-record.js'
import { membersStreamName } from '../../lib/peers/members-stream.js'
import type { NodeRow } from '../../lib/shapes/node-row.js'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const INTERVAL_MS = 100
const NS = 'default'
const STREAM = membersStreamName(NS)

const nats = await startNatsServer()
t.teardown(() => nats.stop())
const keyFile = await writeKeyFile()
const start = async (): Promise<DaemonProcess> => await startDaemon({ nats: nats.url, keyFile, args: ['--heartbeat-ms', String(INTERVAL_MS)] })
const daemons = await Promise.all([1, 2, 3].map(start)) as [DaemonProcess, DaemonProcess, DaemonProcess]
t.teardown(() => Promise.all(daemons.map(async d => await d.stop())))
const [a, b] = daemons
const realIds = new Set(daemons.map(d => d.nodeId))
const nc = await connect({ servers: nats.url })
t.teardown(() => nc.close())
const js = jetstream(nc)
const jsm = await jetstreamManager(nc)
const auth = new Authenticator(await readFile(keyFile))

const nodes = async (d: DaemonProcess, query = ''): Promise<NodeRow[]> => (await d.request('GET', `/v1/nodes${query}`)).json as NodeRow[]
const fieldsOf = (nodeId: string, more: object = {}): Parameters<typeof signHeartbeat>[1] => ({
  namespace: NS, nodeId, hostname: `sim-${nodeId}`, startedAt: new Date().toISOString(), beat: 1, at: new Date().toISOString(), appliedSeq: 0, logSeq: 0, version: '1.0.0', ...more
})

/** `credreg_peer_messages_ignored_total{kind,reason}` of a daemon. */
async function ignored (d: DaemonProcess, kind: string, reason: string): Promise<number> {
  const line = (await d.request('GET', '/metrics')).text.split('\n')
    .find(l => l.startsWith('credreg_peer_messages_ignored_total{') && l.includes(`kind="${kind}"`) && l.includes(`reason="${reason}"`))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

/** Asks `d` for its nodes until it counted at least `n` ignored records of that reason. */
async function ignoredAtLeast (t: Test, d: DaemonProcess, reason: string, n: number): Promise<void> {
  const seen = await eventually(async () => { await nodes(d); const c = await ignored(d, 'heartbeat', reason); return c >= n ? c : undefined }, `${n} ${reason} on ${d.nodeId}`, 10_000).catch(() => ignored(d, 'heartbeat', reason))
  t.ok(seen >= n, `${d.nodeId} ignored ${seen} records as ${reason}`)
}

await eventually(async () => {
  for (const d of daemons) if ((await nodes(d)).length !== 3) return false
  return true
}, 'every daemon to list the three')

t.test('the first daemon created the membership stream: one record per subject, kept as long as a node is listed', async t => {
  const info = await jsm.streams.info(STREAM)
  t.equal(info.config.max_msgs_per_subject, 1)
  t.equal(info.config.max_age, 63 * INTERVAL_MS * 1e6, '63 intervals, in ns')
  t.equal(info.config.max_msg_size, 2048)
  t.same(info.config.subjects, [`credreg.${NS}.m.*`])
  t.equal(info.state.num_subjects ?? info.state.messages, 3)
})

t.test('records with made-up ids, untagged, with a random tag, in v2 or not JSON leave only the real hosts listed, each counted', async t => {
  const base = fieldsOf('x', { hostname: 'ghost', appliedSeq: 1_000_000, logSeq: 1_000_000, version: '9.9.9' })
  const write = async (id: string, body: string | Uint8Array): Promise<void> => { await js.publish(memberSubject(NS, id), body) }
  for (let i = 0; i < 20; i++) await write(`untagged-${i}`, JSON.stringify({ v: 3, ...base, nodeId: `untagged-${i}` }))
  for (let i = 0; i < 20; i++) await write(`random-tag-${i}`, JSON.stringify({ v: 3, ...base, nodeId: `random-tag-${i}`, tag: randomBytes(32).toString('base64url') }))
  for (let i = 0; i < 20; i++) await write(`wrong-key-${i}`, JSON.stringify(signHeartbeat(new Authenticator(randomBytes(32)), { ...base, nodeId: `wrong-key-${i}` })))
  for (let i = 0; i < 5; i++) await write(`v2-${i}`, JSON.stringify({ ...signHeartbeat(auth, { ...base, nodeId: `v2-${i}` }), v: 2 }))
  for (let i = 0; i < 5; i++) await write(`garbage-${i}`, 'not json at all')
  // Signed with the key, but written on another node's subject.
  await write('elsewhere', JSON.stringify(signHeartbeat(auth, { ...base, nodeId: 'somewhere-else' })))
  for (const d of daemons) {
    await ignoredAtLeast(t, d, 'malformed', 26)
    await ignoredAtLeast(t, d, 'forged', 40)
    await ignoredAtLeast(t, d, 'version', 5)
    const rows = await nodes(d)
    t.same(new Set(rows.map(r => r.nodeId)), realIds, `${d.nodeId} lists only the real hosts`)
    t.ok(rows.every(r => r.hostname !== 'ghost' && r.appliedSeq < 1_000_000), 'with their own progress')
  }
  t.notOk(a.logs.some(l => typeof l.level === 'number' && l.level >= 30 && JSON.stringify(l).includes('ghost')), 'no info or warning line about the forgeries')
})

t.test('an oversized record is refused by the stream and never listed', async t => {
  const big = JSON.stringify(signHeartbeat(auth, fieldsOf('big', { hostname: 'h'.repeat(255), version: 'v'.repeat(64) }))) + ' '.repeat(2048)
  await t.rejects(js.publish(memberSubject(NS, 'big'), big), 'the server refuses more than 2048 bytes')
  t.notOk((await nodes(a)).some(r => r.nodeId === 'big'))
})

t.test('a replayed record of a real node rolls its progress back nowhere', async t => {
  const captured = await jsm.streams.getMessage(STREAM, { last_by_subj: memberSubject(NS, b.nodeId) })
  if (captured === null) throw new Error('no record of B')
  const before = captured.json<{ appliedSeq: number }>().appliedSeq
  t.equal((await a.request('PUT', '/v1/entities/replay/k', { body: { n: 1 } })).status, 201)
  await eventually(async () => ((await nodes(a)).find(r => r.nodeId === b.nodeId)?.appliedSeq ?? 0) > before, 'A to read that B applied the write')
  // B stopped for a moment, so the replay stays the last record of its subject.
  b.pause()
  try {
    const staleBefore = await ignored(a, 'heartbeat', 'stale')
    await js.publish(memberSubject(NS, b.nodeId), captured.data)
    await ignoredAtLeast(t, a, 'stale', staleBefore + 1)
    t.ok(((await nodes(a)).find(r => r.nodeId === b.nodeId)?.appliedSeq ?? 0) > before, 'B still shown with its latest applied sequence')
  } finally {
    b.resume()
  }
})

t.test(`a stopped daemon is shown gone after ${3 * INTERVAL_MS} ms (3 intervals), even with its last record replayed, then dropped`, async t => {
  const d = await start()
  await eventually(async () => (await nodes(a)).find(r => r.nodeId === d.nodeId)?.state === 'alive', 'A to read the fourth daemon')
  const stopping = Date.now()
  await d.stop()
  const last = await jsm.streams.getMessage(STREAM, { last_by_subj: memberSubject(NS, d.nodeId) })
  if (last === null) throw new Error('no record of the fourth')
  const replaying = setInterval(() => { void js.publish(memberSubject(NS, d.nodeId), last.data).catch(() => {}) }, INTERVAL_MS)
  t.teardown(() => clearInterval(replaying))
  const gone = await eventually(async () => (await nodes(a)).find(r => r.nodeId === d.nodeId && r.state === 'gone'), 'the fourth to be gone')
  t.ok(gone.lastSeenS >= 3 * INTERVAL_MS / 1000, `gone when last seen ${gone.lastSeenS} s ago`)
  clearInterval(replaying)
  const cli = await runCli(['nodes'], { socket: a.socket })
  t.match(cli.stdout.split('\n').find(l => l.startsWith(d.nodeId)), /\sgone \(\d+s ago\)\s/, 'credreg nodes says so')
  await eventually(async () => (await nodes(a)).filter(r => r.state === 'alive').length === 3, 'the others to be alive')
  let lastListed = Date.now()
  await eventually(async () => {
    if (!(await nodes(a)).some(r => r.nodeId === d.nodeId)) return true
    lastListed = Date.now()
    return false
  }, 'the fourth to be dropped', 20_000)
  t.ok(lastListed - stopping >= (3 + 60 - 2) * INTERVAL_MS, `still listed as gone ${lastListed - stopping} ms after it stopped, then dropped`)
  await eventually(async () => await jsm.streams.getMessage(STREAM, { last_by_subj: memberSubject(NS, d.nodeId) }).then(m => m === null, () => true), 'its record to age out of the stream', 20_000)
})

t.test('200 members joining cost a daemon no extra write, and it lists them when asked', async t => {
  const writes = new Map<string, number>([...realIds].map(id => [id, 0]))
  const subs = [...realIds].map(id => nc.subscribe(memberSubject(NS, id), { callback: () => { writes.set(id, (writes.get(id) ?? 0) + 1) } }))
  t.teardown(() => subs.forEach(s => s.unsubscribe()))
  await nc.flush()
  const windowMs = 1000
  const started = Date.now()
  await Promise.all(Array.from({ length: 200 }, async (_, i) => await js.publish(memberSubject(NS, `newcomer-${i}`), JSON.stringify(signHeartbeat(auth, fieldsOf(`newcomer-${i}`))))))
  await sleep(windowMs - (Date.now() - started))
  subs.forEach(s => s.unsubscribe())
  // 10 intervals in a second; a timer may fire late (a starved process), never more often.
  for (const [id, n] of writes) t.ok(n >= 1 && n <= 11, `${id} wrote ${n} records in ${windowMs} ms`)
  t.equal((await nodes(a)).filter(r => r.nodeId.startsWith('newcomer-')).length, 200, 'the newcomers are listed')
})

t.test('nodes --key answers from each member\'s applied sequence, asking nobody', async t => {
  const first = await a.request('PUT', '/v1/entities/told/k', { body: { n: 1 } })
  const second = await a.request('PUT', '/v1/entities/told/k', { body: { n: 2 } })
  t.equal(second.status, 200)
  const seqs = ((await a.request('GET', '/v1/history/told/k')).json.versions as Array<{ seq: number }>).map(v => v.seq)
  t.equal(first.status, 201)
  const members = { 'told-before': (seqs[0] ?? 0) - 1, 'told-between': seqs[0] ?? 0, 'told-after': seqs[1] ?? 0 }
  for (const [id, appliedSeq] of Object.entries(members)) await js.publish(memberSubject(NS, id), JSON.stringify(signHeartbeat(auth, fieldsOf(id, { appliedSeq, logSeq: appliedSeq }))))
  // Nobody answers questions any more: a subscriber on the old query subject sees none.
  let questions = 0
  const sub = nc.subscribe(`credreg.${NS}.q.>`, { callback: () => { questions++ } })
  t.teardown(() => sub.unsubscribe())
  const rows = await eventually(async () => {
    const r = await nodes(a, '?key=told/k')
    return r.filter(x => x.nodeId.startsWith('told-')).length === 3 ? r : undefined
  }, 'A to read the three members')
  const version = new Map(rows.map(r => [r.nodeId, r.keyVersion]))
  t.same([version.get('told-before'), version.get('told-between'), version.get('told-after')], [0, 1, 2])
  t.equal(version.get(a.nodeId), 2, 'A itself')
  await nc.flush()
  t.equal(questions, 0, 'no question on the wire')
})

t.test('credreg nodes prints every one of 2,000 members into a pipe, in one read of the stream', async t => {
  const ids = Array.from({ length: 2000 }, (_, i) => `many-${i}`)
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(ids.slice(i, i + 200).map(async id => await js.publish(memberSubject(NS, id), JSON.stringify(signHeartbeat(auth, fieldsOf(id))))))
  }
  const cli = await runCli(['nodes'], { socket: a.socket })
  t.equal(cli.code, 0, cli.stderr)
  const lines = cli.stdout.trimEnd().split('\n')
  t.equal(lines.filter(l => l.startsWith('many-')).length, 2000, `all 2,000 in ${cli.stdout.length} bytes of output`)
})
