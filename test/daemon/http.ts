import t from 'tap'
import { v4 as uuidv4 } from 'uuid'
import { curl } from '../fixtures/curl.js'
import { startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(() => daemon.stop())
const sock = daemon.socket
const json = (body: unknown): string[] => ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)]

t.test('PUT creates (201) then updates (200), each answer carrying the new ETag', async t => {
  const created = await curl(sock, '/v1/entities/app/db', ['-X', 'PUT', ...json({ user: 'app', pass: 's1' })])
  t.equal(created.status, 201)
  t.same(created.json, { key: 'app/db', version: 1 })
  t.equal(created.headers.etag, '"1"')
  const updated = await curl(sock, '/v1/entities/app/db', ['-X', 'PUT', ...json({ user: 'app', pass: 's2' })])
  t.equal(updated.status, 200)
  t.same(updated.json, { key: 'app/db', version: 2 })
  t.equal(updated.headers.etag, '"2"')
})

t.test('GET answers the entity with its ETag, and ?version=N reads history', async t => {
  const latest = await curl(sock, '/v1/entities/app/db')
  t.equal(latest.status, 200)
  t.equal(latest.headers.etag, '"2"')
  t.match(latest.json, { key: 'app/db', version: 2, value: { user: 'app', pass: 's2' }, meta: { op: 'put', nodeId: daemon.nodeId } })
  const first = await curl(sock, '/v1/entities/app/db?version=1')
  t.match(first.json, { version: 1, value: { pass: 's1' } })
  const missing = await curl(sock, '/v1/entities/app/none')
  t.equal(missing.status, 404)
  t.equal(missing.json.code, 'NOT_FOUND')
  t.type(missing.json.message, 'string')
})

t.test('If-Match makes a write conditional; a stale version is 412 with currentVersion and changes nothing', async t => {
  const stale = await curl(sock, '/v1/entities/app/db', ['-X', 'PUT', '-H', 'If-Match: "1"', ...json({ pass: 'lost' })])
  t.equal(stale.status, 412)
  t.match(stale.json, { code: 'VERSION_CONFLICT', currentVersion: 2 })
  t.type(stale.json.message, 'string')
  t.match((await curl(sock, '/v1/entities/app/db')).json, { version: 2, value: { pass: 's2' } })
  const fresh = await curl(sock, '/v1/entities/app/db', ['-X', 'PUT', '-H', 'If-Match: "2"', ...json({ user: 'app', pass: 's3' })])
  t.equal(fresh.status, 200)
  t.equal(fresh.headers.etag, '"3"')
})

t.test('If-Match by RFC 9110: a list matches any listed version, * any existing value, a weak tag never; malformed is 400', async t => {
  const path = '/v1/entities/cond/a'
  const put = (ifMatch: string, body: unknown): ReturnType<typeof curl> => curl(sock, path, ['-X', 'PUT', '-H', `If-Match: ${ifMatch}`, ...json(body)])
  const version = async (): Promise<number> => (await curl(sock, path)).json.version
  t.match(await put('*', { v: 0 }), { status: 412, json: { code: 'VERSION_CONFLICT', currentVersion: 0 } }, '* needs the key to exist')
  t.equal((await curl(sock, path)).status, 404, 'nothing was created')
  await curl(sock, path, ['-X', 'PUT', ...json({ v: 1 })])
  await curl(sock, path, ['-X', 'PUT', ...json({ v: 2 })])

  const listed = await put('"1", "2"', { v: 3 })
  t.equal(listed.status, 200, 'the current version is in the list')
  t.equal(listed.headers.etag, '"3"')
  t.match(await put('"1", "2"', { v: 'lost' }), { status: 412, json: { code: 'VERSION_CONFLICT', currentVersion: 3 } }, 'no listed version is current')
  t.match(await put('W/"3"', { v: 'lost' }), { status: 412, json: { code: 'VERSION_CONFLICT', currentVersion: 3 } }, 'a weak tag never matches')
  t.match(await put('W/"3", "x"', { v: 'lost' }), { status: 412 }, 'nor do tags that are no ETag of ours')
  for (const bad of ['3', '"3" "4"', 'W/ "3"', '*, "3"']) {
    t.match(await put(bad, { v: 'lost' }), { status: 400, json: { code: 'BAD_REQUEST' } }, `malformed: ${bad}`)
  }
  t.equal(await version(), 3, 'the refused writes changed nothing')
  t.match(await put('*', { v: 4 }), { status: 200, headers: { etag: '"4"' } }, '* matches the existing value')

  const patch = await curl(sock, path, ['-X', 'PATCH', '-H', 'If-Match: "9", "4"', '-H', 'content-type: application/merge-patch+json', '--data-binary', '{"p":1}'])
  t.match(patch, { status: 200, headers: { etag: '"5"' } }, 'PATCH takes a list')
  t.match(await curl(sock, path, ['-X', 'PATCH', '-H', 'If-Match: W/"5"', '-H', 'content-type: application/merge-patch+json', '--data-binary', '{"p":2}']), { status: 412 })
  t.match(await curl(sock, path, ['-X', 'DELETE', '-H', 'If-Match: W/"5"']), { status: 412 }, 'DELETE: a weak tag never matches')
  t.match(await curl(sock, path, ['-X', 'DELETE', '-H', 'If-Match: *']), { status: 200, headers: { etag: '"6"' } }, 'DELETE takes *')
  t.match(await curl(sock, path, ['-X', 'DELETE', '-H', 'If-Match: *']), { status: 412, json: { currentVersion: 6 } }, 'a deleted key does not match *')
  t.match(await curl(sock, path, ['-X', 'PATCH', '-H', 'If-Match: "5", "6"', '-H', 'content-type: application/merge-patch+json', '--data-binary', '{"p":3}']),
    { status: 412, json: { code: 'VERSION_CONFLICT', currentVersion: 6 } }, 'a list never matches a deleted key')
})

t.test('If-None-Match: * creates only', async t => {
  const created = await curl(sock, '/v1/entities/app/cache', ['-X', 'PUT', '-H', 'If-None-Match: *', ...json({ url: 'redis://a' })])
  t.equal(created.status, 201)
  const again = await curl(sock, '/v1/entities/app/cache', ['-X', 'PUT', '-H', 'If-None-Match: *', ...json({ url: 'redis://b' })])
  t.equal(again.status, 412)
  t.match(again.json, { code: 'VERSION_CONFLICT', currentVersion: 1 })
})

t.test('PATCH takes JSON Patch and merge patch; a patch that cannot apply is 422; other types are 415 with Accept-Patch', async t => {
  const patched = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', '-H', 'content-type: application/json-patch+json', '--data-binary', '[{"op":"add","path":"/ttl","value":60}]'])
  t.equal(patched.status, 200)
  t.same(patched.json, { key: 'app/cache', version: 2 })
  t.equal(patched.headers.etag, '"2"')
  const merged = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', '-H', 'If-Match: "2"', '-H', 'content-type: application/merge-patch+json', '--data-binary', '{"ttl":null}'])
  t.equal(merged.status, 200)
  t.same((await curl(sock, '/v1/entities/app/cache')).json.value, { url: 'redis://a' })

  const failed = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', '-H', 'content-type: application/json-patch+json', '--data-binary', '[{"op":"remove","path":"/nope"}]'])
  t.equal(failed.status, 422)
  t.equal(failed.json.code, 'PATCH_FAILED')
  const testOp = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', '-H', 'content-type: application/json-patch+json', '--data-binary', '[{"op":"test","path":"/url","value":"x"}]'])
  t.equal(testOp.status, 422)

  const wrongType = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', ...json({ ttl: 1 })])
  t.equal(wrongType.status, 415)
  t.equal(wrongType.json.code, 'UNSUPPORTED_MEDIA_TYPE')
  t.match(wrongType.headers['accept-patch'], /application\/json-patch\+json/)
  t.match(wrongType.headers['accept-patch'], /application\/merge-patch\+json/)
  const xml = await curl(sock, '/v1/entities/app/cache', ['-X', 'PATCH', '-H', 'content-type: application/xml', '--data-binary', '<a/>'])
  t.equal(xml.status, 415)
  t.ok(xml.headers['accept-patch'])
  t.equal((await curl(sock, '/v1/entities/app/cache')).json.version, 3, 'the failed patches wrote nothing')
})

t.test('DELETE writes a tombstone version; If-Match applies', async t => {
  const stale = await curl(sock, '/v1/entities/app/cache', ['-X', 'DELETE', '-H', 'If-Match: "1"'])
  t.equal(stale.status, 412)
  t.equal(stale.json.currentVersion, 3)
  const deleted = await curl(sock, '/v1/entities/app/cache', ['-X', 'DELETE', '-H', 'If-Match: "3"'])
  t.equal(deleted.status, 200)
  t.same(deleted.json, { key: 'app/cache', version: 4 })
  t.equal(deleted.headers.etag, '"4"')
  t.equal((await curl(sock, '/v1/entities/app/cache')).status, 404)
  const recreated = await curl(sock, '/v1/entities/app/cache', ['-X', 'PUT', '-H', 'If-None-Match: *', ...json({ url: 'redis://c' })])
  t.equal(recreated.status, 201, 'create-only succeeds over a tombstone')
  t.equal(recreated.json.version, 5)
})

t.test('list pages through live keys', async t => {
  for (const k of ['a', 'b', 'c']) await curl(sock, `/v1/entities/list/${k}`, ['-X', 'PUT', ...json({ k })])
  const page = await curl(sock, '/v1/entities?prefix=list/&limit=2')
  t.equal(page.status, 200)
  t.same(page.json.items.map((i: { key: string }) => i.key), ['list/a', 'list/b'])
  t.match(page.json.items[0], { version: 1, updatedAt: String })
  const rest = await curl(sock, `/v1/entities?prefix=list/&limit=2&after=${page.json.next as string}`)
  t.same(rest.json.items.map((i: { key: string }) => i.key), ['list/c'])
  t.notOk(rest.json.next)
})

t.test('history lists versions with seq, op, meta and patch', async t => {
  const res = await curl(sock, '/v1/history/app/cache')
  t.equal(res.status, 200)
  t.equal(res.json.key, 'app/cache')
  t.same(res.json.versions.map((v: { version: number }) => v.version), [1, 2, 3, 4, 5])
  t.same(res.json.versions.map((v: { op: string }) => v.op), ['put', 'patch', 'patch', 'delete', 'put'])
  t.same(res.json.versions[1].patch, [{ op: 'add', path: '/ttl', value: 60 }])
  t.type(res.json.versions[0].seq, 'number')
  t.notOk('value' in res.json.versions[0])
  t.equal((await curl(sock, '/v1/history/never/seen')).status, 404)
})

t.test('X-Correlation-Id is taken into the record and echoed; one is generated when absent', async t => {
  const id = uuidv4()
  const res = await curl(sock, '/v1/entities/app/traced', ['-X', 'PUT', '-H', `X-Correlation-Id: ${id}`, ...json({ a: 1 })])
  t.equal(res.headers['x-correlation-id'], id)
  t.equal((await curl(sock, '/v1/entities/app/traced')).json.meta.correlationId, id)
  t.ok(await daemon.waitForLog(l => l.correlationId === id && l.msg === 'write applied'), 'the write is logged with its correlation id')
  t.ok(await daemon.waitForLog(l => l.correlationId === id && l.msg === 'change applied'), 'so is its apply')
  const generated = await curl(sock, '/v1/entities/app/traced', ['-X', 'PUT', ...json({ a: 2 })])
  t.match(generated.headers['x-correlation-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/)
})

t.test('status, nodes and metrics describe this standalone daemon', async t => {
  const status = await curl(sock, '/v1/status')
  t.match(status.json, { nodeId: daemon.nodeId, mode: 'standalone', namespace: 'default', lag: 0, nats: { connected: false }, version: String, uptimeS: Number })
  t.equal(status.json.appliedSeq, status.json.logSeq)
  t.ok(status.json.entities >= 5)
  const nodes = await curl(sock, '/v1/nodes?key=app/db')
  t.equal(nodes.json.length, 1)
  t.match(nodes.json[0], { nodeId: daemon.nodeId, appliedSeq: status.json.appliedSeq, lag: 0, lastSeenS: 0, keyVersion: 3 })
  const metrics = await curl(sock, '/metrics')
  t.equal(metrics.status, 200)
  t.match(metrics.headers['content-type'], /^text\/plain/)
  t.match(metrics.body, /credreg_writes_total\{op="put",result="ok"\} \d+/)
  t.match(metrics.body, /credreg_writes_total\{op="put",result="conflict"\} \d+/)
  t.match(metrics.body, /credreg_write_duration_seconds_bucket/)
  t.match(metrics.body, /credreg_apply_lag_records 0/)
  t.match(metrics.body, /credreg_apply_lag_seconds /)
  t.match(metrics.body, /credreg_watchers 0/)
  t.match(metrics.body, /credreg_nats_connected 1/)
})
