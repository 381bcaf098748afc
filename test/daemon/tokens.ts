/**
 * Scoped tokens and the admin socket, against the real credregd: the admin
 * routes live on the admin socket (mode 0600) only; once the daemon has a
 * token, the apps' socket wants one and holds each request to its scope.
 */
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { runDaemon, shortTempDir, startDaemon, type Answer, type DaemonProcess } from '../fixtures/daemon.js'
import { openSse } from '../fixtures/sse-reader.js'

/** Mints a token on the admin socket; resolves with it. */
async function mint (daemon: DaemonProcess, body: object): Promise<string> {
  const answer = await daemon.adminRequest('POST', '/v1/admin/tokens', { body })
  if (answer.status !== 201) throw new Error(`token not created: ${answer.status} ${answer.text}`)
  return answer.json.token
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

t.test('the admin socket: mode 0600 in the data dir by default, the admin routes there only, every other route with full rights', async t => {
  const daemon = await startDaemon({ adminSocket: null })
  t.teardown(() => daemon.stop())
  t.equal(daemon.adminSocket, join(daemon.dataDir, 'credregd-admin.sock'))
  t.equal((await stat(daemon.adminSocket)).mode & 0o777, 0o600, 'the admin socket is 0600')
  t.equal((await stat(daemon.socket)).mode & 0o777, 0o660, 'the apps\' socket stays 0660')
  for (const [method, path] of [['POST', '/v1/admin/reseed'], ['GET', '/v1/admin/tokens'], ['POST', '/v1/admin/tokens'], ['DELETE', '/v1/admin/tokens/x']]) {
    const answer = await daemon.request(method as string, path as string, method === 'POST' ? { body: { name: 'x' } } : {})
    t.match(answer, { status: 404, json: { code: 'NOT_FOUND', message: /no route/ } }, `${method ?? ''} ${path ?? ''} is absent from the apps' socket`)
  }
  t.match(await daemon.adminRequest('POST', '/v1/admin/reseed'), { status: 409, json: { code: 'RESEED_REFUSED' } }, 'reseed is served on the admin socket')
  t.match(await daemon.adminRequest('GET', '/v1/admin/tokens'), { status: 200, json: { tokens: [] } })
  t.equal((await daemon.adminRequest('PUT', '/v1/entities/adm/a', { body: { a: 1 } })).status, 201, 'the admin socket writes')
  t.equal((await daemon.request('GET', '/v1/entities/adm/a')).status, 200, 'with no token, the apps\' socket asks for none')
})

t.test('a token scoped to svc/a/', async t => {
  const dir = await shortTempDir(t)
  const tokenFile = join(dir, 'tcp.token')
  const LISTENER_TOKEN = 'listener-token-0123456789abcdef0123456789'
  await writeFile(tokenFile, LISTENER_TOKEN, { mode: 0o600 })
  const daemon = await startDaemon({ args: ['--listen', '127.0.0.1:0', '--token-file', tokenFile] })
  t.teardown(() => daemon.stop())
  for (const key of ['svc/a/db', 'svc/b/db']) t.equal((await daemon.request('PUT', `/v1/entities/${key}`, { body: { pass: 'p' } })).status, 201)

  const token = await mint(daemon, { name: 'billing', read: ['svc/a/', 'shared/'], write: ['svc/a/'] })
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  const as = async (method: string, path: string, body?: object, headers: Record<string, string> = bearer(token)): Promise<Answer> =>
    await daemon.request(method, path, { headers, ...(body !== undefined ? { body } : {}) })

  t.test('tokens.json holds the hash, never the token, with mode 0600', async t => {
    const file = join(daemon.dataDir, 'tokens.json')
    t.equal((await stat(file)).mode & 0o777, 0o600)
    const text = await readFile(file, 'utf8')
    t.notMatch(text, token, 'no plaintext token')
    t.match(JSON.parse(text), { version: 1, tokens: [{ name: 'billing', read: ['svc/a/', 'shared/'], write: ['svc/a/'], rotations: false, sha256: /^[0-9a-f]{64}$/ }] })
    const listed = await daemon.adminRequest('GET', '/v1/admin/tokens')
    t.same(Object.keys(listed.json.tokens[0]).sort(), ['createdAt', 'name', 'read', 'rotations', 'write'], 'the list tells no hash')
  })

  t.test('once a token exists, the apps\' socket wants one: none or an unknown one is 401', async t => {
    t.match(await as('GET', '/v1/status', undefined, {}), { status: 401, json: { code: 'UNAUTHORIZED', message: /this socket requires Authorization: Bearer/ } })
    t.match(await as('GET', '/v1/entities/svc/a/db', undefined, bearer('x'.repeat(43))), { status: 401, json: { code: 'UNAUTHORIZED', message: 'the bearer token is not valid' } })
    t.equal((await as('PUT', '/v1/entities/svc/a/new', { a: 1 }, {})).status, 401)
    t.equal((await as('GET', '/v1/status', undefined, bearer(LISTENER_TOKEN))).status, 401, 'the TCP listener\'s own token is not one of the socket\'s')
    t.equal((await daemon.adminRequest('GET', '/v1/entities/svc/a/new')).status, 404, 'the refused write wrote nothing')
    t.equal((await daemon.adminRequest('GET', '/v1/status')).status, 200, 'the admin socket asks for no token')
  })

  t.test('inside the scope: read and write svc/a/, read shared/', async t => {
    t.match(await as('GET', '/v1/entities/svc/a/db'), { status: 200, json: { key: 'svc/a/db', value: { pass: 'p' } } })
    t.match(await as('PUT', '/v1/entities/svc/a/db', { pass: 'q' }), { status: 200, json: { version: 2 } })
    t.equal((await as('PATCH', '/v1/entities/svc/a/db', { pass: 'r' }, { ...bearer(token), 'content-type': 'application/merge-patch+json' })).status, 200)
    t.equal((await as('GET', '/v1/entities/svc/a/db?version=1')).status, 200)
    t.match(await as('GET', '/v1/entities?prefix=svc/a/'), { status: 200, json: { items: [{ key: 'svc/a/db' }] } })
    t.match(await as('GET', '/v1/history/svc/a/db'), { status: 200, json: { versions: [{ version: 1 }, { version: 2 }, { version: 3 }] } })
    t.match(await as('POST', '/v1/changesets', { changes: [{ key: 'svc/a/x', op: 'put', value: { x: 1 } }, { key: 'svc/a/db', op: 'merge', patch: { pass: 's' } }] }), { status: 201 })
    t.equal((await as('GET', '/v1/entities/shared/none')).status, 404, 'shared/ is readable (and this key absent)')
    for (const path of ['/v1/status', '/metrics', '/v1/nodes', '/v1/nodes?key=svc/a/db']) t.equal((await as('GET', path)).status, 200, `${path} is open to any token`)
    const agent = new Agent({ connect: { socketPath: daemon.socket } })
    t.teardown(() => agent.close())
    const sse = await openSse(agent, '/v1/watch?prefix=svc/a/&since=0', bearer(token))
    t.equal(sse.status, 200)
    const events = await sse.read(e => e.length >= 5)
    sse.close()
    t.ok(events.every(e => String(e.data.key).startsWith('svc/a/')), 'the watch streams svc/a/ only')
  })

  t.test('outside the scope: 403 FORBIDDEN naming the key and the grant, and nothing written', async t => {
    const forbidden = { status: 403, json: { code: 'FORBIDDEN' } }
    t.match(await as('GET', '/v1/entities/svc/b/db'), { status: 403, json: { code: 'FORBIDDEN', key: 'svc/b/db', message: 'token billing: no read grant covers the key svc/b/db' } })
    t.notMatch((await as('GET', '/v1/entities/svc/b/db')).text, /"pass"|"p"/, 'no value in the refusal')
    t.match(await as('GET', '/v1/entities/svc/b/db?version=1'), forbidden)
    t.match(await as('GET', '/v1/entities/svc/b/db?stage=pending'), forbidden)
    t.match(await as('GET', '/v1/history/svc/b/db'), forbidden)
    t.match(await as('GET', '/v1/nodes?key=svc/b/db'), forbidden)
    for (const prefix of ['svc/b/', 'svc/', '']) {
      t.match(await as('GET', `/v1/entities?prefix=${prefix}`), { status: 403, json: { code: 'FORBIDDEN', message: /no read grant covers every key under the prefix/ } }, `list ${JSON.stringify(prefix)}`)
      t.match(await as('GET', `/v1/watch?prefix=${prefix}`), forbidden, `watch ${JSON.stringify(prefix)}`)
    }
    t.match(await as('GET', '/v1/entities'), forbidden, 'list without a prefix')
    t.match(await as('PUT', '/v1/entities/svc/b/db', { pass: 'stolen' }), { status: 403, json: { code: 'FORBIDDEN', key: 'svc/b/db', message: 'token billing: no write grant covers the key svc/b/db' } })
    t.match(await as('PUT', '/v1/entities/shared/x', { a: 1 }), forbidden, 'read is not write')
    t.match(await as('DELETE', '/v1/entities/svc/b/db'), forbidden)
    t.match(await as('PATCH', '/v1/entities/svc/b/db', { pass: 'x' }, { ...bearer(token), 'content-type': 'application/merge-patch+json' }), forbidden)
    t.match(await as('POST', '/v1/changesets', { changes: [{ key: 'svc/a/db', op: 'put', value: { pass: 'both' } }, { key: 'svc/b/db', op: 'delete' }] }), { status: 403, json: { code: 'FORBIDDEN', key: 'svc/b/db' } })
    const b = await daemon.adminRequest('GET', '/v1/entities/svc/b/db')
    t.match(b.json, { version: 1, value: { pass: 'p' } }, 'svc/b/db is untouched')
    t.not((await daemon.adminRequest('GET', '/v1/entities/svc/a/db')).json.value.pass, 'both', 'the changeset wrote nothing')
    for (const [method, path] of [['POST', '/v1/admin/reseed'], ['GET', '/v1/admin/tokens'], ['DELETE', '/v1/admin/tokens/billing']]) {
      t.match(await as(method as string, path as string), { status: 404, json: { code: 'NOT_FOUND' } }, `${method ?? ''} ${path ?? ''}: no admin route on the apps' socket`)
    }
  })

  t.test('the TCP listener takes its own token (full rights) and scoped tokens (held to their scope)', async t => {
    const base = `http://127.0.0.1:${daemon.tcpPort ?? 0}`
    const get = async (path: string, headers: Record<string, string>): Promise<number> => {
      const res = await request(base + path, { headers })
      await res.body.dump()
      return res.statusCode
    }
    t.equal(await get('/v1/entities/svc/b/db', bearer(LISTENER_TOKEN)), 200)
    t.equal(await get('/v1/entities/svc/a/db', bearer(token)), 200)
    t.equal(await get('/v1/entities/svc/b/db', bearer(token)), 403)
    t.equal(await get('/v1/entities/svc/a/db', {}), 401)
    t.equal(await get('/v1/admin/tokens', bearer(LISTENER_TOKEN)), 404, 'no admin route over TCP')
  })

  t.test('a revoked token is refused at once, and the streams it opened end; the socket still wants a token while another exists', async t => {
    const other = await mint(daemon, { name: 'other', read: ['svc/'] })
    const agent = new Agent({ connect: { socketPath: daemon.socket } })
    t.teardown(() => agent.close())
    const watching = await openSse(agent, '/v1/watch?prefix=svc/a/', bearer(token))
    const watchingOther = await openSse(agent, '/v1/watch?prefix=svc/', bearer(other))
    t.equal(watching.status, 200)
    t.match(await daemon.adminRequest('DELETE', '/v1/admin/tokens/billing'), { status: 200, json: { name: 'billing' } })
    const last = await watching.read(events => events.some(e => e.event === 'closed'), 10_000)
    t.match(last.at(-1), { event: 'closed', data: { code: 'UNAUTHORIZED', reason: 'revoked', message: 'the token of this stream was revoked' } }, 'the revoked token\'s watch ends')
    t.equal((await daemon.adminRequest('PUT', '/v1/entities/svc/a/after', { body: { a: 1 } })).status, 201)
    const kept = await watchingOther.read(events => events.length > 0, 10_000)
    t.match(kept, [{ event: 'put', data: { key: 'svc/a/after' } }], 'another token\'s watch goes on')
    watching.close()
    watchingOther.close()
    t.match(await as('GET', '/v1/entities/svc/a/db'), { status: 401, json: { code: 'UNAUTHORIZED' } })
    t.equal((await as('GET', '/v1/entities/svc/b/db', undefined, bearer(other))).status, 200)
    t.match(await daemon.adminRequest('DELETE', '/v1/admin/tokens/billing'), { status: 404, json: { code: 'NOT_FOUND' } })
    t.equal((await daemon.adminRequest('DELETE', '/v1/admin/tokens/other')).status, 200)
    t.equal((await as('GET', '/v1/entities/svc/b/db', undefined, {})).status, 200, 'without tokens, the socket asks for none again')
  })
})

t.test('bad token requests are 400 with what is wrong, and change nothing', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  await mint(daemon, { name: 'taken', read: ['a/'] })
  const before = await readFile(join(daemon.dataDir, 'tokens.json'), 'utf8')
  const cases: Array<[unknown, RegExp]> = [
    [{}, /must be an object \{"name"/],
    [{ name: 'has space', read: ['a/'] }, /name must be a name of 1-64 characters/],
    [{ name: 'x'.repeat(65) }, /name must be a name of 1-64/],
    [{ name: 'ok', read: 'a/' }, /read must be an array of at most 64 key prefixes/],
    [{ name: 'ok', read: ['a/'], write: Array.from({ length: 65 }, (_, i) => `p${i}/`) }, /write must be an array of at most 64/],
    [{ name: 'ok', read: [''] }, /read\/0 must be an array of at most 64 key prefixes, each 1-256 characters/],
    [{ name: 'ok', read: ['a b/'] }, /read\[0\] is not a key prefix/],
    [{ name: 'ok', rotations: 'yes' }, /rotations must be true or false/],
    [{ name: 'ok', admin: true }, /takes name, read, write and rotations only/],
    [{ name: 'taken', read: ['b/'] }, /a token named taken exists already/]
  ]
  for (const [body, message] of cases) {
    const answer = await daemon.adminRequest('POST', '/v1/admin/tokens', { body: body as object })
    t.match(answer, { status: 400, json: { code: 'BAD_REQUEST', message } }, JSON.stringify(body).slice(0, 80))
  }
  t.match(await daemon.adminRequest('POST', '/v1/admin/tokens', { body: 'name=x', headers: { 'content-type': 'text/plain' } }), { status: 415 })
  t.match(await daemon.adminRequest('POST', '/v1/admin/tokens', { body: '{"name":', headers: { 'content-type': 'application/json' } }), { status: 400, json: { code: 'BAD_REQUEST' } })
  t.equal(await readFile(join(daemon.dataDir, 'tokens.json'), 'utf8'), before, 'tokens.json is as it was')
  t.same((await daemon.adminRequest('GET', '/v1/admin/tokens')).json.tokens.map((x: { name: string }) => x.name), ['taken'])
})

t.test('a hostile or corrupt tokens.json fails the start with INVALID_CONFIG, naming the file, never quoting it', async t => {
  const dir = await shortTempDir(t)
  const MARK = 'h0stile-marker'
  const hash = 'a'.repeat(64)
  const record = { name: 'n', read: ['a/'], write: [], rotations: false, createdAt: '2026-01-01T00:00:00.000Z', sha256: hash }
  const cases: Array<[string, string, number, RegExp]> = [
    ['not JSON', `{"${MARK}`, 0o600, /is not valid: it is not JSON/],
    ['wrong shape', JSON.stringify({ version: 1, tokens: [{ ...record, name: MARK + ' !' }] }), 0o600, /is not valid: tokens\/0\/name/],
    ['unknown field', JSON.stringify({ version: 1, tokens: [{ ...record, [MARK]: 1 }] }), 0o600, /is not valid: tokens\/0/],
    ['bad prefix', JSON.stringify({ version: 1, tokens: [{ ...record, read: [MARK + ' *'] }] }), 0o600, /tokens\/0\/read\[0\] is not a key prefix/],
    ['a name twice', JSON.stringify({ version: 1, tokens: [record, { ...record, sha256: 'b'.repeat(64) }] }), 0o600, /tokens\/1: a name is used twice/],
    ['another version', JSON.stringify({ version: 2, tokens: [] }), 0o600, /is not valid: version/],
    ['group-readable', JSON.stringify({ version: 1, tokens: [record] }), 0o640, /accessible by group or others/]
  ]
  // One at a time: seven daemons starting at once may take longer than a start should on a busy machine.
  const runs = []
  for (const [i, [name, content, mode]] of cases.entries()) {
    const dataDir = join(dir, `d${i}`)
    await mkdir(dataDir, { mode: 0o700 })
    const file = join(dataDir, 'tokens.json')
    await writeFile(file, content, { mode })
    await chmod(file, mode)
    runs.push({ name, file, run: await runDaemon(['--data-dir', dataDir], {}, 30_000) })
  }
  runs.forEach(({ name, file, run }, i) => {
    t.equal(run.code, 2, `${name}: exit 2`)
    t.match(run.stderr, `credregd: tokens file ${file}`, `${name}: names the file`)
    t.match(run.stderr, cases[i]?.[3] ?? /./, `${name}: says what is wrong`)
    t.notMatch(run.stderr + run.stdout, MARK, `${name}: never quotes the file`)
  })
})

t.test('rotations: stage, release and abort need the rotations grant and write scope; an ack and a rotation\'s view need read of every staged key', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  t.equal((await daemon.adminRequest('PUT', '/v1/entities/svc/a/db', { body: { pass: 'old' } })).status, 201)
  const [ops, app, other, writer] = [
    await mint(daemon, { name: 'ops', read: ['svc/a/'], write: ['svc/a/'], rotations: true }),
    await mint(daemon, { name: 'app', read: ['svc/a/'] }),
    await mint(daemon, { name: 'other', read: ['svc/b/'] }),
    await mint(daemon, { name: 'writer', read: ['svc/a/'], write: ['svc/a/'] })
  ]
  const as = async (token: string, method: string, path: string, body?: object): Promise<Answer> =>
    await daemon.request(method, path, { headers: bearer(token), ...(body !== undefined ? { body } : {}) })
  const agent = new Agent({ connect: { socketPath: daemon.socket } })
  t.teardown(() => agent.close())
  const appEvents = await openSse(agent, '/v1/rotations/events', bearer(app))
  const otherEvents = await openSse(agent, '/v1/rotations/events', bearer(other))
  t.equal(appEvents.status, 200)
  t.equal(otherEvents.status, 200, 'a token without the grant may open the stream: it is filtered')

  const stage = (key: string): object => ({ changes: [{ key, op: 'merge', patch: { pass: 'new' } }] })
  t.match(await as(writer, 'POST', '/v1/rotations', stage('svc/a/db')), { status: 403, json: { code: 'FORBIDDEN', message: 'token writer: the rotations grant is missing, which a rotation\'s stage needs' } })
  t.match(await as(ops, 'POST', '/v1/rotations', stage('svc/b/db')), { status: 403, json: { code: 'FORBIDDEN', key: 'svc/b/db', message: /no write grant/ } })
  const staged = await as(ops, 'POST', '/v1/rotations', stage('svc/a/db'))
  t.equal(staged.status, 201, staged.text)
  const id = staged.json.id as string

  t.same((await as(other, 'GET', '/v1/rotations')).json.rotations, [], 'a token that cannot read the staged keys does not see the rotation')
  t.match(await as(other, 'GET', `/v1/rotations/${id}`), { status: 403, json: { code: 'FORBIDDEN', key: 'svc/a/db' } })
  t.match(await as(other, 'POST', `/v1/rotations/${id}/acks`, { ok: true }), { status: 403, json: { code: 'FORBIDDEN', message: /no read grant covers the key svc\/a\/db/ } })
  t.match(await as(app, 'GET', '/v1/rotations'), { status: 200, json: { rotations: [{ id }] } })
  t.match(await as(app, 'GET', `/v1/rotations/${id}`), { status: 200, json: { id } })
  t.match(await as(app, 'GET', '/v1/entities/svc/a/db?stage=pending'), { status: 200, json: { value: { pass: 'new' } } })
  t.match(await as(app, 'POST', `/v1/rotations/${id}/release`), { status: 403, json: { code: 'FORBIDDEN', message: /rotations grant is missing, which a rotation's release needs/ } })
  t.match(await as(app, 'POST', `/v1/rotations/${id}/acks`, { ok: true, message: 'login ok' }), { status: 200, json: { hosts: [{ ack: 'ok' }] } }, 'a token that reads every staged key acknowledges')
  t.match(await as(writer, 'POST', `/v1/rotations/${id}/abort`, {}), { status: 403, json: { code: 'FORBIDDEN' } })
  t.match(await as(ops, 'POST', `/v1/rotations/${id}/release`), { status: 200, json: { status: 'released' } })
  t.equal((await as(app, 'GET', `/v1/rotations/${randomUUID()}`)).status, 404)

  const seen = await appEvents.read(events => events.length >= 3, 10_000)
  t.same(seen.map(e => e.data.event), ['staged', 'acked', 'released'], 'the app\'s stream tells its rotation')
  const unseen = await otherEvents.read(() => false, 500)
  t.same(unseen, [], 'the other token\'s stream tells nothing of it')
  appEvents.close()
  otherEvents.close()
})
