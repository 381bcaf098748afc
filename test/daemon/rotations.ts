/**
 * Staged rotations over HTTP, on three real daemons sharing one nats-server:
 * a stage waits for every host heard from, each host comes to hold the
 * staged values, the release is refused until all three acked and then
 * lands at one sequence everywhere; bad input changes nothing; plain reads
 * and watches never show a staged value; rotation events arrive in order.
 */
import t from 'tap'
import { Agent } from 'undici'
import { v7 as uuidv7 } from 'uuid'
import { connect } from '../../lib/client/client.js'
import type { ChangeEvent, Rotation, RotationEvent } from '../../lib/types.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { openSse } from '../fixtures/sse-reader.js'

const nats = await startNatsServer()
t.teardown(() => nats.stop())
const keyFile = await writeKeyFile()
const daemons = await Promise.all([1, 2, 3].map(async () => await startDaemon({ nats: nats.url, keyFile }))) as [DaemonProcess, DaemonProcess, DaemonProcess]
t.teardown(() => Promise.all(daemons.map(async d => await d.stop())))
const [a, b, c] = daemons
const ids = daemons.map(d => d.nodeId)

/** PUTs `value` on `d`, failing the test on anything but a success. */
async function put (d: DaemonProcess, key: string, value: object): Promise<void> {
  const res = await d.request('PUT', `/v1/entities/${key}`, { body: value })
  if (res.status >= 300) throw new Error(`put ${key}: ${res.text}`)
}

/** Waits until `d` applied through `seq`. */
async function applied (d: DaemonProcess, seq: number): Promise<void> {
  await eventually(async () => (await d.request('GET', '/v1/status')).json.appliedSeq >= seq, `${d.nodeId} to apply sequence ${seq}`)
}

// Before any test: every daemon heard the other two, so a stage without hosts waits for all three.
await Promise.all(daemons.map(async d => await eventually(async () => {
  const rows = (await d.request('GET', '/v1/nodes')).json as Array<{ state: string }>
  return rows.length === 3 && rows.every(r => r.state === 'alive')
}, `${d.nodeId} to list three alive nodes`)))

t.test('a rotation with the default hosts: every host holds it, the release waits for the third ack, then lands at one sequence everywhere', async t => {
  await put(a, 'db/user', { name: 'app' })
  await put(a, 'db/pass', { secret: 'old' })
  const seeded = (await a.request('GET', '/v1/status')).json.appliedSeq as number
  await Promise.all([b, c].map(async d => await applied(d, seeded)))

  // Followers of what happens, opened before the stage: rotation events (raw on C, the client on B) and changes on B.
  const agentC = new Agent({ connect: { socketPath: c.socket } })
  t.teardown(() => agentC.close())
  const raw = await openSse(agentC, '/v1/rotations/events')
  t.equal(raw.status, 200)
  t.match(raw.headers['content-type'], /^text\/event-stream/)
  const client = connect({ socket: b.socket })
  t.teardown(() => client.close())
  const viaClient: RotationEvent[] = []
  const following = (async () => {
    for await (const event of client.watchRotations()) {
      viaClient.push(event)
      if (event.event === 'released') return
    }
  })()
  const agentB = new Agent({ connect: { socketPath: b.socket } })
  t.teardown(() => agentB.close())
  const changes = await openSse(agentB, '/v1/watch?prefix=db/')

  const staged = await a.request('POST', '/v1/rotations', {
    body: { changes: [{ key: 'db/user', op: 'put', value: { name: 'app2' } }, { key: 'db/pass', op: 'merge', patch: { secret: 'new' }, ifVersion: 1 }] }
  })
  t.equal(staged.status, 201, staged.text)
  const rotation = staged.json as Rotation
  t.match(rotation, { status: 'staged', stagedBy: a.nodeId, changes: [{ key: 'db/user', builtOn: 1, version: 2, op: 'put' }, { key: 'db/pass', builtOn: 1, version: 2, op: 'patch' }] })
  t.same(new Set(rotation.hosts.map(h => h.nodeId)), new Set(ids), 'waits for every host heard from')
  t.ok(rotation.hosts.every(h => h.ack === 'silent'))
  t.ok(a.logs.some(l => l.msg === 'rotation stage applied' && l.correlationId === staged.headers['x-correlation-id']), 'the stage is logged with its correlation id')

  const held = await eventually(async () => {
    const r = (await a.request('GET', `/v1/rotations/${rotation.id}`)).json as Rotation
    return r.hosts.every(h => h.holds === true) ? r : undefined
  }, 'every host to hold the staged values, as A heard it')
  t.equal(held.status, 'staged')
  t.same((await client.rotations()).map(r => r.id), [rotation.id], 'the one open rotation, through the client')

  for (const d of daemons) {
    await applied(d, rotation.seq)
    const pending = await d.request('GET', '/v1/entities/db/pass?stage=pending')
    t.equal(pending.status, 200, `${d.nodeId} reads the staged value on purpose`)
    t.match(pending.json, { key: 'db/pass', version: 2, value: { secret: 'new' }, rotation: rotation.id })
    t.equal(pending.headers.etag, undefined, 'a staged value has no ETag to write on')
    const current = await d.request('GET', '/v1/entities/db/pass')
    t.match(current.json, { version: 1, value: { secret: 'old' } }, `${d.nodeId}: a plain read answers the current value`)
    t.notOk('rotation' in current.json)
    const list = (await d.request('GET', '/v1/entities?prefix=db/')).json as { items: Array<{ version: number }> }
    t.same(list.items.map(i => i.version), [1, 1], `${d.nodeId}: a list shows the current versions`)
  }
  t.equal((await a.request('GET', '/v1/entities/db/other?stage=pending')).status, 404, 'nothing pending for a key no rotation stages')

  for (const d of [a, b]) t.equal((await d.request('POST', `/v1/rotations/${rotation.id}/acks`, { body: { ok: true } })).status, 200)
  const refused = await a.request('POST', `/v1/rotations/${rotation.id}/release`)
  t.equal(refused.status, 409)
  t.equal(refused.json.code, 'ROTATION_REFUSED')
  t.match(refused.json.message, `no ack from ${c.nodeId}`, 'the refusal names the silent host')
  t.notMatch(refused.json.message, a.nodeId)
  t.match((await a.request('GET', '/v1/entities/db/pass')).json, { version: 1 }, 'nothing released')

  const third = await c.request('POST', `/v1/rotations/${rotation.id}/acks`, { body: { ok: true, message: 'login ok' } })
  t.equal(third.status, 200)
  t.match(third.json.hosts.find((h: { nodeId: string }) => h.nodeId === c.nodeId), { ack: 'ok', message: 'login ok', holds: true })
  const released = await a.request('POST', `/v1/rotations/${rotation.id}/release`, { body: {} })
  t.equal(released.status, 200, released.text)
  t.match(released.json, { status: 'released', closed: { by: a.nodeId, forced: false } })
  const at = (released.json as Rotation).closed?.seq as number

  await Promise.all(daemons.map(async d => await applied(d, at)))
  const views = await Promise.all(daemons.map(async d => ({
    list: (await d.request('GET', '/v1/entities?prefix=db/')).json,
    user: (await d.request('GET', '/v1/history/db/user')).json,
    pass: (await d.request('GET', '/v1/history/db/pass')).json,
    value: (await d.request('GET', '/v1/entities/db/pass')).json.value
  })))
  t.same(views[1], views[0], 'B holds what A holds: entities and history')
  t.same(views[2], views[0], 'C holds what A holds: entities and history')
  t.same(views[0]?.value, { secret: 'new' })
  for (const history of [views[0]?.user, views[0]?.pass]) {
    t.same(history.versions.map((v: { version: number }) => v.version), [1, 2], 'one new version per key')
    t.equal(history.versions[1].seq, at, 'at the release\'s sequence')
  }
  t.equal((await c.request('GET', '/v1/entities/db/pass?stage=pending')).status, 404, 'nothing pending once released')
  t.same((await b.request('GET', '/v1/rotations')).json, { rotations: [] }, 'no open rotation')

  const changeEvents = (await changes.read(events => events.length >= 2, 10_000)).map(e => e.data as ChangeEvent)
  changes.close()
  t.same(changeEvents.map(e => [e.key, e.version, e.seq, e.value, e.changeset?.id]), [
    ['db/user', 2, at, { name: 'app2' }, rotation.id],
    ['db/pass', 2, at, { secret: 'new' }, rotation.id]
  ], 'a watcher sees the release as one changeset, never a staged value')

  const rawEvents = await raw.read(events => events.some(e => e.data?.event === 'released'), 10_000)
  raw.close()
  t.ok(rawEvents.every(e => e.event === 'rotation' && e.id === undefined), 'event: rotation, no id (live only)')
  const seen = rawEvents.map(e => e.data as RotationEvent)
  t.same(seen.map(e => [e.event, e.nodeId]), [['staged', a.nodeId], ['acked', a.nodeId], ['acked', b.nodeId], ['acked', c.nodeId], ['released', a.nodeId]], 'in log order')
  t.ok(seen.every(e => e.rotation === rotation.id))
  t.same(seen.map(e => e.seq), [...seen.map(e => e.seq)].sort((x, y) => x - y), 'sequences ascend')
  t.match(seen[3], { ok: true, message: 'login ok' })
  t.match(seen[4], { seq: at, forced: false })
  await following
  t.same(viaClient, seen, 'the client library hands over the same events on B')

  const metrics = (await a.request('GET', '/metrics')).text
  t.match(metrics, /^credreg_rotations_open 0$/m)
  t.match(metrics, /^credreg_rotation_acks_total\{result="ok"\} 3$/m)
})

t.test('bad bodies and ids are 400, an unknown rotation 404; nothing is staged by them; abort', async t => {
  const before = (await a.request('GET', '/v1/status')).json.appliedSeq
  const stage = async (body: unknown): Promise<{ status: number, json: any }> => await a.request('POST', '/v1/rotations', { body: body as object })
  const bad: Array<[string, unknown]> = [
    ['no changes', {}],
    ['empty changes', { changes: [] }],
    ['an unknown op', { changes: [{ key: 'bad/a', op: 'upsert', value: {} }] }],
    ['a host that is no node id', { changes: [{ key: 'bad/a', op: 'put', value: {} }], hosts: ['a b'] }],
    ['no hosts at all', { changes: [{ key: 'bad/a', op: 'put', value: {} }], hosts: [] }],
    ['a host twice', { changes: [{ key: 'bad/a', op: 'put', value: {} }], hosts: [a.nodeId, a.nodeId] }],
    ['a deadline of 0', { changes: [{ key: 'bad/a', op: 'put', value: {} }], deadlineSeconds: 0 }],
    ['a field of no stage', { changes: [{ key: 'bad/a', op: 'put', value: {} }], force: true }],
    ['an array', [{ key: 'bad/a', op: 'put', value: {} }]]
  ]
  for (const [what, body] of bad) {
    const res = await stage(body)
    t.equal(res.status, 400, `${what}: 400 (${JSON.stringify(res.json)})`)
    t.equal(res.json.code, 'BAD_REQUEST', what)
  }
  t.match(await stage({ changes: [{ key: 'bad/a', op: 'put', value: 1 }] }), { status: 400, json: { code: 'INVALID_VALUE', key: 'bad/a' } }, 'a value that is not an object')
  t.match(await stage({ changes: [{ key: '/bad', op: 'put', value: {} }] }), { status: 400, json: { code: 'INVALID_KEY' } })
  t.match(await stage({ changes: [{ key: 'bad/a', op: 'upsert', value: {} }] }), { status: 400, json: { message: /bad\/a: op must be put, patch, merge or delete/ } }, 'the change at fault is named')
  t.match(await stage({ changes: [{ key: 'bad/a', op: 'put', value: {} }], force: true }), { status: 400, json: { message: /force is not a field it takes/ } })
  const notJson = await a.request('POST', '/v1/rotations', { headers: { 'content-type': 'application/json' }, body: '{"changes":' })
  t.match(notJson, { status: 400, json: { code: 'BAD_REQUEST' } })
  t.equal((await a.request('GET', '/v1/status')).json.appliedSeq, before, 'nothing was appended')

  const unknown = uuidv7()
  for (const [method, path, body] of [
    ['GET', '/v1/rotations/nope'], ['POST', '/v1/rotations/nope/acks', { ok: true }], ['POST', '/v1/rotations/nope/release', {}], ['POST', '/v1/rotations/nope/abort', {}]
  ] as Array<[string, string, object?]>) {
    const res = await a.request(method, path, body !== undefined ? { body } : {})
    t.match(res, { status: 400, json: { code: 'BAD_REQUEST' } }, `${method} ${path}: a rotation id is a uuid`)
  }
  t.match(await a.request('GET', `/v1/rotations/${unknown}`), { status: 404, json: { code: 'NOT_FOUND' } })
  t.match(await a.request('POST', `/v1/rotations/${unknown}/release`), { status: 404, json: { code: 'NOT_FOUND' } })
  t.match(await a.request('POST', `/v1/rotations/${unknown}/acks`, { body: { ok: true } }), { status: 404, json: { code: 'NOT_FOUND' } })

  await put(a, 'bad/k', { v: 1 })
  const open = await stage({ changes: [{ key: 'bad/k', op: 'put', value: { v: 2 } }], hosts: [a.nodeId, 'elsewhere'], deadlineSeconds: 3600 })
  t.equal(open.status, 201, JSON.stringify(open.json))
  const id = open.json.id as string
  t.match(open.json.hosts, [{ nodeId: a.nodeId, holds: true }, { nodeId: 'elsewhere', ack: 'silent' }], 'explicit hosts; a host never heard from holds nothing known')
  t.notOk('holds' in open.json.hosts[1])
  t.ok(Date.parse(open.json.deadline) > Date.now() + 3500_000, 'a deadline an hour ahead')
  t.match(await a.request('POST', `/v1/rotations/${id}/acks`, { body: { ok: 'yes' } }), { status: 400 }, 'ok is a boolean')
  t.match(await a.request('POST', `/v1/rotations/${id}/acks`, { body: { ok: true, extra: 1 } }), { status: 400 }, 'an ack takes ok and message only')
  t.match(await b.request('POST', `/v1/rotations/${id}/acks`, { body: { ok: true } }), { status: 409, json: { code: 'ROTATION_REFUSED', message: /does not wait for/ } })
  const long = await a.request('POST', `/v1/rotations/${id}/acks`, { body: { ok: false, message: 'x'.repeat(10_000) } })
  t.equal(long.status, 200, 'a test\'s long output is taken')
  t.ok(long.json.hosts[0].message.length <= 4096, 'cut to what a record holds')
  t.match(long.json.hosts[0].message, /\(cut to fit\)$/, 'saying so')
  t.match(await a.request('POST', '/v1/rotations', { body: { changes: [{ key: 'bad/k', op: 'delete' }] } }), { status: 409, json: { code: 'ROTATION_REFUSED', message: /staged by the open rotation/ } })
  t.equal((await a.request('GET', '/metrics')).text.match(/^credreg_rotations_open (\d+)$/m)?.[1], '1', 'one open rotation in the metrics')

  const aborted = await a.request('POST', `/v1/rotations/${id}/abort`, { body: { reason: 'superseded' } })
  t.match(aborted, { status: 200, json: { status: 'aborted', closed: { reason: 'superseded', by: a.nodeId } } })
  t.match(await a.request('POST', `/v1/rotations/${id}/release`, { body: { force: true } }), { status: 409, json: { code: 'ROTATION_REFUSED', message: /aborted already/ } })
  t.match(await a.request('GET', `/v1/rotations/${id}`), { status: 200, json: { status: 'aborted' } })
  t.same((await a.request('GET', '/v1/rotations')).json, { rotations: [] })
  t.match((await a.request('GET', '/v1/entities/bad/k')).json, { version: 1, value: { v: 1 } }, 'nothing of it was released')
})

t.test('a client\'s rotation watch does not reconnect: its daemon going away ends it with UNAVAILABLE', async t => {
  const client = connect({ socket: c.socket })
  t.teardown(() => client.close())
  const events = client.watchRotations()
  const next = events.next()
  // The stream is open once the daemon counts it: a stage elsewhere reaches it.
  await put(a, 'gone/k', { v: 1 })
  const staged = await a.request('POST', '/v1/rotations', { body: { changes: [{ key: 'gone/k', op: 'put', value: { v: 2 } }], hosts: [a.nodeId] } })
  t.match(await next, { done: false, value: { event: 'staged', rotation: staged.json.id } })
  const ended = t.rejects(events.next(), { code: 'UNAVAILABLE', message: /events may have been missed/ })
  await c.stop()
  await ended
})
