/**
 * `POST /v1/changesets` on a real standalone daemon: the answer of a
 * committed changeset, every refusal with its status and the failures of
 * every key, the checks of the body, and its size limits. No refusal
 * appends anything to the log.
 */
import t, { type Test } from 'tap'
import { v4 as uuidv4 } from 'uuid'
import { startDaemon, type Answer } from '../fixtures/daemon.js'

// A small value limit, so the size limits are reached with small bodies.
const MAX_VALUE_BYTES = 8192
const daemon = await startDaemon({ args: ['--max-value-bytes', String(MAX_VALUE_BYTES)] })
t.teardown(() => daemon.stop())

const JSON_TYPE = { 'content-type': 'application/json' }

async function commit (body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return await daemon.request('POST', '/v1/changesets', { headers: { ...JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

async function put (key: string, value: object): Promise<void> {
  const res = await daemon.request('PUT', `/v1/entities/${key}`, { body: value })
  if (res.status >= 300) throw new Error(`put ${key}: ${res.text}`)
}

async function logSeq (): Promise<number> {
  return (await daemon.request('GET', '/v1/status')).json.logSeq as number
}

/** Runs `refuse` and checks that the log did not move meanwhile: nothing was written. */
async function nothingWritten<T> (t: Test, refuse: () => Promise<T>): Promise<T> {
  const before = await logSeq()
  const result = await refuse()
  t.equal(await logSeq(), before, 'nothing was written')
  return result
}

t.test('a changeset answers 201 with each key\'s version at one sequence, under the caller\'s correlation id', async t => {
  await put('cs/ok/user', { name: 'app' })
  await put('cs/ok/note', { m: 0 })
  const id = uuidv4()
  const res = await commit({
    changes: [
      { key: 'cs/ok/user', op: 'merge', patch: { name: 'app2' }, ifVersion: 1 },
      { key: 'cs/ok/pass', op: 'put', value: { secret: 'n3w' }, ifAbsent: true },
      { key: 'cs/ok/note', op: 'patch', ops: [{ op: 'add', path: '/n', value: 1 }] }
    ]
  }, { 'x-correlation-id': id })
  t.equal(res.status, 201)
  t.equal(res.headers['x-correlation-id'], id, 'the correlation id is echoed')
  t.match(res.json, { id: /^[0-9a-f]{8}-[0-9a-f]{4}-7/, seq: Number, correlationId: id })
  t.same(res.json.results, [
    { key: 'cs/ok/user', version: 2, created: false },
    { key: 'cs/ok/pass', version: 1, created: true },
    { key: 'cs/ok/note', version: 2, created: false }
  ])
  t.same(Object.keys(res.json).sort(), ['correlationId', 'id', 'results', 'seq'])
  for (const [i, key] of ['cs/ok/user', 'cs/ok/pass', 'cs/ok/note'].entries()) {
    const entity = (await daemon.request('GET', `/v1/entities/${key}`)).json
    t.equal(entity.meta.correlationId, id, `${key} is recorded under the correlation id`)
    const history = (await daemon.request('GET', `/v1/history/${key}`)).json.versions
    t.match(history.at(-1), { seq: res.json.seq, changeset: { id: res.json.id, index: i, size: 3 } }, `${key}'s history names the changeset`)
  }
  t.same((await daemon.request('GET', '/v1/entities/cs/ok/user')).json.value, { name: 'app2' })
  t.same((await daemon.request('GET', '/v1/entities/cs/ok/note')).json.value, { m: 0, n: 1 })
  t.ok(await daemon.waitForLog(l => l.correlationId === id && l.msg === 'changeset applied'), 'logged with its correlation id')
  t.notOk('changeset' in (await daemon.request('GET', '/v1/history/cs/ok/user')).json.versions[0], 'a single write names no changeset')
})

t.test('stale conditions are 412 with failures listing every key, its expected and current version', async t => {
  await put('cs/stale/a', { n: 1 })
  await put('cs/stale/a', { n: 2 })
  await put('cs/stale/b', { n: 1 })
  const res = await nothingWritten(t, async () => await commit({
    changes: [
      { key: 'cs/stale/a', op: 'put', value: { n: 3 }, ifVersion: 1 },
      { key: 'cs/stale/b', op: 'put', value: { n: 2 }, ifAbsent: true },
      { key: 'cs/stale/c', op: 'put', value: { n: 1 }, ifVersion: 0 },
      { key: 'cs/stale/d', op: 'delete' }
    ]
  }))
  t.equal(res.status, 412)
  t.match(res.json, { code: 'VERSION_CONFLICT', message: /nothing was written/ })
  t.same(res.json.failures.map(({ message: _message, ...rest }: Record<string, unknown>) => rest), [
    { key: 'cs/stale/a', code: 'VERSION_CONFLICT', expectedVersion: 1, currentVersion: 2 },
    { key: 'cs/stale/b', code: 'VERSION_CONFLICT', currentVersion: 1 },
    { key: 'cs/stale/d', code: 'NOT_FOUND' }
  ], 'every failing key, none that would have passed')
  for (const f of res.json.failures) t.type(f.message, 'string')
  t.same((await daemon.request('GET', '/v1/entities/cs/stale/a')).json.version, 2)
  t.equal((await daemon.request('GET', '/v1/entities/cs/stale/c')).status, 404)
})

t.test('a patch or delete of a missing key is 404, a patch that cannot apply 422, each naming its key', async t => {
  await put('cs/p/a', { n: 1 })
  const missing = await nothingWritten(t, async () => await commit({
    changes: [{ key: 'cs/p/a', op: 'delete' }, { key: 'cs/p/none', op: 'merge', patch: { n: 1 } }]
  }))
  t.equal(missing.status, 404)
  t.match(missing.json, { code: 'NOT_FOUND', failures: [{ key: 'cs/p/none', code: 'NOT_FOUND', message: String }] })
  t.equal(missing.json.failures.length, 1)
  const failing = await nothingWritten(t, async () => await commit({
    changes: [{ key: 'cs/p/a', op: 'patch', ops: [{ op: 'test', path: '/n', value: 2 }] }, { key: 'cs/p/b', op: 'put', value: {} }]
  }))
  t.equal(failing.status, 422)
  t.match(failing.json, { code: 'PATCH_FAILED', failures: [{ key: 'cs/p/a', code: 'PATCH_FAILED', message: /test/ }] })
  t.equal((await daemon.request('GET', '/v1/entities/cs/p/b')).status, 404)
})

t.test('a malformed body is 400 saying what is wrong, and writes nothing', async t => {
  const put1 = (key: string): object => ({ key, op: 'put', value: { n: 1 } })
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a key twice', { changes: [put1('cs/m/a'), put1('cs/m/a')] }, 'BAD_REQUEST', /cs\/m\/a appears twice/],
    ['65 changes', { changes: Array.from({ length: 65 }, (_, i) => put1(`cs/m/k${i}`)) }, 'BAD_REQUEST', /at most 64 keys, got 65/],
    ['no change', { changes: [] }, 'BAD_REQUEST', /at least one change/],
    ['an unknown op', { changes: [{ key: 'cs/m/a', op: 'upsert', value: {} }] }, 'BAD_REQUEST', /op must be put, patch, merge or delete, got "upsert"/],
    ['a field its op does not take', { changes: [{ key: 'cs/m/a', op: 'delete', value: {} }] }, 'BAD_REQUEST', /a delete change takes no value/],
    ['a field beside changes', { changes: [put1('cs/m/a')], dryRun: true }, 'BAD_REQUEST', /takes "changes" only, not "dryRun"/],
    ['changes that are not an array', { changes: { key: 'cs/m/a' } }, 'BAD_REQUEST', /an array of changes/],
    ['a body that is not an object', [put1('cs/m/a')], 'BAD_REQUEST', /must be a JSON object/],
    ['both conditions', { changes: [{ ...put1('cs/m/a'), ifVersion: 1, ifAbsent: true }] }, 'BAD_REQUEST', /exclude each other/],
    ['a malformed RFC 6902 operation', { changes: [{ key: 'cs/m/a', op: 'patch', ops: [{ path: '/n' }] }] }, 'BAD_REQUEST', /changes\/0\/ops\/0 must have required propert/],
    ['an invalid key', { changes: [put1('cs/m/a'), put1('cs//m')] }, 'INVALID_KEY', /change 1: invalid key/],
    ['a put of a value that is not an object', { changes: [{ key: 'cs/m/a', op: 'put', value: [1] }] }, 'INVALID_VALUE', /value, a JSON object/],
    ['JSON that does not parse', '{"changes": [', 'BAD_REQUEST', /not valid JSON/]
  ]
  for (const [what, body, code, message] of cases) {
    const res = await nothingWritten(t, async () => await commit(body))
    t.equal(res.status, 400, what)
    t.match(res.json, { code, message }, what)
    t.notOk('failures' in res.json, `${what}: a malformed changeset has no failures`)
  }
})

t.test('a body that is not application/json is 415', async t => {
  const body = JSON.stringify({ changes: [{ key: 'cs/t/a', op: 'delete' }] })
  for (const type of ['text/plain', 'application/merge-patch+json', 'application/json-patch+json']) {
    const res = await nothingWritten(t, async () => await daemon.request('POST', '/v1/changesets', { headers: { 'content-type': type }, body }))
    t.equal(res.status, 415, type)
    t.equal(res.json.code, 'UNSUPPORTED_MEDIA_TYPE', type)
  }
  t.match(await daemon.request('POST', '/v1/changesets'), { status: 415, json: { message: /without a content type/ } })
})

t.test('size: a changeset takes what one record holds; its body an envelope per change beyond a single write\'s limit', async t => {
  const singleWriteLimit = MAX_VALUE_BYTES + 16 * 1024
  const changes = Array.from({ length: 16 }, (_, i) => ({ key: `cs/size/k${i}`, op: 'put', value: { v: 'x'.repeat(200) } }))
  // Pretty-printed, with room to spare: more than a single write may send, well within what the envelopes allow.
  const pretty = JSON.stringify({ changes }, null, 2) + '\n'.repeat(singleWriteLimit)
  const taken = await commit(pretty)
  t.equal(taken.status, 201, taken.text.slice(0, 300))
  t.equal(taken.json.results.length, 16)

  const tooLong = await nothingWritten(t, async () => await commit(JSON.stringify({ changes: changes.slice(0, 1) }) + ' '.repeat(singleWriteLimit + 64 * 1024)))
  t.equal(tooLong.status, 413, 'past the changeset limit the body is not read')
  t.match(tooLong.json, { code: 'VALUE_TOO_LARGE', message: /request body is over the size limit/ })

  const big = { v: 'y'.repeat(MAX_VALUE_BYTES / 2) }
  const tooBig = await nothingWritten(t, async () => await commit({ changes: [0, 1, 2].map(i => ({ key: `cs/size/big${i}`, op: 'put', value: big })) }))
  t.equal(tooBig.status, 413, 'values together over one record')
  t.match(tooBig.json, { code: 'VALUE_TOO_LARGE', message: /split it/ })
  t.equal((await daemon.request('GET', '/v1/entities/cs/size/big0')).status, 404)
})

t.test('changesets are counted in credreg_writes_total by result', async t => {
  const metrics = (await daemon.request('GET', '/metrics')).text
  t.match(metrics, /credreg_writes_total\{op="changeset",result="ok"\} [1-9]/)
  t.match(metrics, /credreg_writes_total\{op="changeset",result="conflict"\} [1-9]/)
  t.match(metrics, /credreg_writes_total\{op="changeset",result="rejected"\} [1-9]/)
  t.match(metrics, /credreg_write_duration_seconds_count\{op="changeset"\} [1-9]/)
})
