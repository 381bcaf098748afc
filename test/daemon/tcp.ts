import { chmod, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { runDaemon, shortTempDir, startDaemon } from '../fixtures/daemon.js'

const dir = await shortTempDir(t)
const tokenFile = join(dir, 'token')
const TOKEN = 's3cret-token-0123456789abcdef0123'
await writeFile(tokenFile, TOKEN + '\n', { mode: 0o600 })

t.test('the TCP listener wants the bearer token: none → 401, wrong → 401, right → 200', async t => {
  const daemon = await startDaemon({ args: ['--listen', '127.0.0.1:0', '--token-file', tokenFile] })
  t.teardown(() => daemon.stop())
  const base = `http://127.0.0.1:${daemon.tcpPort ?? 0}`
  const call = async (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number, json: any, headers: Record<string, unknown> }> => {
    const res = await request(base + path, { method: method as 'GET', headers, body })
    return { status: res.statusCode, json: await res.body.json(), headers: res.headers }
  }
  const none = await call('/v1/status')
  t.equal(none.status, 401)
  t.equal(none.json.code, 'UNAUTHORIZED')
  t.equal(none.headers['www-authenticate'], 'Bearer')
  const wrong = await call('/v1/status', { authorization: 'Bearer s3cret-token-0123456789abcdef0124' })
  t.equal(wrong.status, 401)
  t.equal(wrong.json.code, 'UNAUTHORIZED')
  t.equal((await call('/v1/status', { authorization: 'Basic czNjcmV0LXRva2Vu' })).status, 401)
  t.equal((await call('/metrics', {})).status, 401, 'metrics too')
  const right = await call('/v1/status', { authorization: `Bearer ${TOKEN}` })
  t.equal(right.status, 200)
  t.equal(right.json.nodeId, daemon.nodeId)
  const written = await call('/v1/entities/tcp/a', { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, 'PUT', '{"a":1}')
  t.equal(written.status, 201)
  t.equal((await daemon.request('GET', '/v1/entities/tcp/a')).status, 200, 'the unix socket needs no token')
  t.equal((await call('/v1/entities/tcp/b', { 'content-type': 'application/json' }, 'PUT', '{"a":1}')).status, 401)
  t.equal((await daemon.request('GET', '/v1/entities/tcp/b')).status, 404, 'the unauthorized write wrote nothing')
})

t.test('a non-loopback --listen is refused without --allow-remote', async t => {
  const listens = ['0.0.0.0:0', '[::]:0']
  const runs = await Promise.all(listens.map(listen => runDaemon(['--data-dir', join(dir, 'refused'), '--listen', listen, '--token-file', tokenFile])))
  runs.forEach((res, i) => {
    t.equal(res.code, 2, `${listens[i] ?? ''} exits 2`)
    t.match(res.stderr, /not a loopback address; pass --allow-remote/)
  })
})

t.test('an empty, short, group-readable or symlinked --token-file is refused at start', async t => {
  const file = async (name: string, content: string, mode = 0o600): Promise<string> => {
    const path = join(dir, name)
    await writeFile(path, content, { mode })
    await chmod(path, mode)
    return path
  }
  const link = join(dir, 'link')
  await symlink(tokenFile, link)
  const cases: Array<[string, string, RegExp]> = [
    ['empty', await file('empty', '\n'), /is empty/],
    ['short', await file('short', 'only-20-bytes-secret'), /holds 20 bytes; a token has at least 32/],
    ['mode 0644', await file('open', TOKEN, 0o644), /accessible by group or others \(mode 644\)/],
    ['a symbolic link', link, /is a symbolic link/]
  ]
  const runs = await Promise.all(cases.map(([name, path]) => runDaemon(['--data-dir', join(dir, 'data-' + name.replace(/\W/g, '')), '--listen', '127.0.0.1:0', '--token-file', path])))
  runs.forEach((res, i) => {
    const [name, , message] = cases[i] ?? []
    t.equal(res.code, 2, `${name ?? ''} exits 2`)
    t.match(res.stderr, message ?? /./)
    t.notMatch(res.stderr + res.stdout, /s3cret|only-20/, 'the content is never quoted')
  })
})
