/**
 * Heartbeats and key queries between real daemons, against a NATS user that
 * can publish and subscribe on every subject but does not hold the namespace
 * key: forged heartbeats, v1 heartbeats, replays, forged answers and
 * questions change nothing; a stopped daemon is shown gone, then dropped; a
 * burst of newcomers is answered once per host, not once per newcomer.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, createInbox, type Msg } from '@nats-io/transport-node'
import t, { type Test } from 'tap'
import { Authenticator } from '../../lib/authenticator.js'
import { signHeartbeat } from '../../lib/peers/heartbeat-record.js'
import type { NodeRow } from '../../lib/shapes/node-row.js'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const INTERVAL_MS = 100
const HB = 'credreg.default.hb'
const QUERY = 'credreg.default.q.version'

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

const nodes = async (d: DaemonProcess, query = ''): Promise<NodeRow[]> => (await d.request('GET', `/v1/nodes${query}`)).json as NodeRow[]

/** `credreg_peer_messages_ignored_total{kind,reason}` of a daemon. */
async function ignored (d: DaemonProcess, kind: string, reason: string): Promise<number> {
  const line = (await d.request('GET', '/metrics')).text.split('\n')
    .find(l => l.startsWith('credreg_peer_messages_ignored_total{') && l.includes(`kind="${kind}"`) && l.includes(`reason="${reason}"`))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

/** Waits until `d` counted at least `n` ignored messages of that kind and reason. */
async function ignoredAtLeast (t: Test, d: DaemonProcess, kind: string, reason: string, n: number): Promise<void> {
  const seen = await eventually(async () => { const c = await ignored(d, kind, reason); return c >= n ? c : undefined }, `${n} ${kind} ${reason} on ${d.nodeId}`, 10_000).catch(() => ignored(d, kind, reason))
  t.ok(seen >= n, `${d.nodeId} ignored ${seen} ${kind} messages as ${reason}`)
}

await eventually(async () => {
  for (const d of daemons) if ((await nodes(d)).length !== 3) return false
  return true
}, 'every daemon to list the three')

t.test('1,000s of heartbeats with made-up ids, untagged, with a random tag or in v1, leave only the real hosts listed', async t => {
  const base = { namespace: 'default', hostname: 'ghost', startedAt: new Date().toISOString(), appliedSeq: 1_000_000, logSeq: 1_000_000, version: '9.9.9' }
  for (let i = 0; i < 1000; i++) nc.publish(HB, JSON.stringify({ v: 2, ...base, nodeId: `untagged-${i}`, beat: 1 }))
  for (let i = 0; i < 1000; i++) nc.publish(HB, JSON.stringify({ v: 2, ...base, nodeId: `random-tag-${i}`, beat: 1, tag: randomBytes(32).toString('base64url') }))
  for (let i = 0; i < 100; i++) nc.publish(HB, JSON.stringify({ v: 1, ...base, nodeId: `v1-${i}` }))
  // A real node's id in a forgery: it must not move that node's row.
  nc.publish(HB, JSON.stringify({ v: 2, ...base, nodeId: b.nodeId, beat: 1e9, tag: randomBytes(32).toString('base64url') }))
  await nc.flush()
  for (const d of daemons) {
    await ignoredAtLeast(t, d, 'heartbeat', 'malformed', 1000)
    await ignoredAtLeast(t, d, 'heartbeat', 'forged', 1001)
    await ignoredAtLeast(t, d, 'heartbeat', 'version', 100)
    const rows = await nodes(d)
    t.same(new Set(rows.map(r => r.nodeId)), realIds, `${d.nodeId} lists only the real hosts`)
    t.ok(rows.every(r => r.hostname !== 'ghost' && r.appliedSeq < 1_000_000), 'with their own progress')
  }
  t.notOk(a.logs.some(l => typeof l.level === 'number' && l.level >= 30 && JSON.stringify(l).includes('ghost')), 'no info or warning line about the forgeries')
})

t.test('a replayed heartbeat of a real node does not roll its progress back', async t => {
  const captured = await new Promise<Msg>(resolve => {
    const sub = nc.subscribe(HB, { callback: (_err, msg) => { if (msg.json<{ nodeId: string }>().nodeId === b.nodeId) { sub.unsubscribe(); resolve(msg) } } })
  })
  const before = captured.json<{ appliedSeq: number }>().appliedSeq
  t.equal((await a.request('PUT', '/v1/entities/replay/k', { body: { n: 1 } })).status, 201)
  await eventually(async () => ((await nodes(a)).find(r => r.nodeId === b.nodeId)?.appliedSeq ?? 0) > before, 'A to hear B applied the write')
  const staleBefore = await ignored(a, 'heartbeat', 'stale')
  for (let i = 0; i < 50; i++) nc.publish(HB, captured.data)
  await nc.flush()
  await ignoredAtLeast(t, a, 'heartbeat', 'stale', staleBefore + 50)
  t.ok(((await nodes(a)).find(r => r.nodeId === b.nodeId)?.appliedSeq ?? 0) > before, 'B still shown with its latest applied sequence')
})

t.test('forged answers to key queries do not show in nodes --key, and do not cut the real answers short', async t => {
  t.equal((await a.request('PUT', '/v1/entities/app/db', { body: { password: 'old' } })).status, 201)
  await eventually(async () => (await nodes(a, '?key=app/db')).every(r => r.keyVersion === 1), 'version 1 everywhere')
  const questions: Msg[] = []
  const forger = nc.subscribe(QUERY, {
    callback: (_err, msg) => {
      questions.push(msg)
      for (const nodeId of realIds) {
        msg.respond(JSON.stringify({ v: 1, nodeId, version: 999 }))
        msg.respond(JSON.stringify({ v: 2, nodeId, version: 999, tag: randomBytes(32).toString('base64url') }))
      }
    }
  })
  t.teardown(() => forger.unsubscribe())
  const [text, json] = [await runCli(['nodes', '--key', 'app/db'], { socket: a.socket }), await runCli(['nodes', '--key', 'app/db', '--json'], { socket: a.socket })]
  t.equal(json.code, 0, json.stderr)
  t.same((JSON.parse(json.stdout) as NodeRow[]).map(r => [r.nodeId, r.keyVersion]).sort(), [...realIds].map(id => [id, 1]).sort(), 'every host holds version 1, as it said itself')
  t.notMatch(text.stdout, /999/)
  t.ok(questions.length >= 2, 'the forger saw the questions')
  await ignoredAtLeast(t, a, 'key-answer', 'version', 3)
  await ignoredAtLeast(t, a, 'key-answer', 'forged', 3)
})

t.test('questions without the key, or replayed, get no answer', async t => {
  // A genuine question, recorded as it goes by.
  const recorded = new Promise<Msg>(resolve => {
    const sub = nc.subscribe(QUERY, { callback: (_err, msg) => { sub.unsubscribe(); resolve(msg) } })
  })
  await nc.flush()
  await nodes(a, '?key=app/db')
  const genuine = await recorded
  const answers: string[] = []
  const inbox = createInbox()
  const subs = [inbox, genuine.reply as string].map(s => nc.subscribe(s, { callback: (_err, msg) => { answers.push(msg.string()) } }))
  t.teardown(() => subs.forEach(s => s.unsubscribe()))
  const before = await Promise.all(daemons.map(async d => await ignored(d, 'key-query', 'replayed')))
  nc.publish(QUERY, JSON.stringify({ v: 1, key: 'app/db', from: 'ghost' }), { reply: inbox })
  const forged = { v: 2, namespace: 'default', from: 'ghost', id: randomBytes(16).toString('base64url'), reply: inbox, key: 'app/db', tag: randomBytes(32).toString('base64url') }
  nc.publish(QUERY, JSON.stringify(forged), { reply: inbox })
  nc.publish(QUERY, genuine.data, { reply: inbox })
  nc.publish(QUERY, genuine.data, { reply: genuine.reply as string })
  await nc.flush()
  await sleep(1000)
  t.same(answers, [], 'no answer')
  for (const [i, d] of daemons.entries()) {
    if (d === a) continue
    await ignoredAtLeast(t, d, 'key-query', 'version', 1)
    await ignoredAtLeast(t, d, 'key-query', 'forged', 2)
    await ignoredAtLeast(t, d, 'key-query', 'replayed', (before[i] ?? 0) + 1)
  }
})

t.test(`a stopped daemon is shown gone after ${3 * INTERVAL_MS} ms (3 intervals), then dropped`, async t => {
  const d = await start()
  await eventually(async () => (await nodes(a)).find(r => r.nodeId === d.nodeId)?.state === 'alive', 'A to hear the fourth daemon')
  const stopping = Date.now()
  await d.stop()
  const gone = await eventually(async () => (await nodes(a)).find(r => r.nodeId === d.nodeId && r.state === 'gone'), 'the fourth to be gone')
  t.ok(gone.lastSeenS >= 3 * INTERVAL_MS / 1000, `gone when last seen ${gone.lastSeenS} s ago`)
  const cli = await runCli(['nodes'], { socket: a.socket })
  t.match(cli.stdout.split('\n').find(l => l.startsWith(d.nodeId)), /\sgone \(\d+s ago\)\s/, 'credreg nodes says so')
  await eventually(async () => (await nodes(a)).filter(r => r.state === 'alive').length === 3, 'the others to be alive')
  let lastListed = Date.now()
  await eventually(async () => {
    if (!(await nodes(a)).some(r => r.nodeId === d.nodeId)) return true
    lastListed = Date.now()
    return false
  }, 'the fourth to be dropped', 20_000)
  // It published every interval until asked to stop, so it was last heard at most an interval or two before.
  t.ok(lastListed - stopping >= (3 + 60 - 2) * INTERVAL_MS, `still listed as gone ${lastListed - stopping} ms after it stopped, then dropped`)
})

t.test('a burst of 200 newcomers is answered with at most a few extra heartbeats per host, not one per newcomer', async t => {
  const auth = new Authenticator(await readFile(keyFile))
  const counts = new Map<string, number>([...realIds].map(id => [id, 0]))
  const sub = nc.subscribe(HB, { callback: (_err, msg) => { const id = msg.json<{ nodeId: string }>().nodeId; if (counts.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1) } })
  t.teardown(() => sub.unsubscribe())
  await nc.flush()
  const startedAt = new Date().toISOString()
  for (let i = 0; i < 200; i++) {
    const fields = { namespace: 'default', nodeId: `newcomer-${i}`, hostname: `new-${i}`, startedAt, beat: 1, appliedSeq: 0, logSeq: 0, version: '1.0.0' }
    nc.publish(HB, JSON.stringify(signHeartbeat(auth, fields)))
    // The same newcomer in the previous wire version, as it was announced before.
    nc.publish(HB, JSON.stringify({ v: 1, ...fields }))
  }
  await nc.flush()
  const windowMs = 1000
  await sleep(windowMs)
  sub.unsubscribe()
  // 10 regular heartbeats in a second, plus at most one extra per half interval: 30 is a bound no jitter breaks.
  for (const [id, n] of counts) t.ok(n <= 30, `${id} published ${n} heartbeats in ${windowMs} ms`)
  t.equal((await nodes(a)).filter(r => r.nodeId.startsWith('newcomer-')).length, 200, 'the newcomers were heard')
})
