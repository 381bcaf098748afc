/**
 * Every reading and writing command of the real CLI against a real
 * standalone daemon: human output and the `--json` shapes.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { runCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket
// The tests use keys of their own, so they may run side by side (which is why none expects a lag of 0).
t.jobs = 3

/** Runs the CLI on the daemon and expects exit 0 and a quiet stderr. */
async function ok (t: Test, args: string[], input?: string): Promise<string> {
  const r = await runCli(args, { socket, ...(input !== undefined ? { input } : {}) })
  t.equal(r.code, 0, `credreg ${args.join(' ')} exits 0 (stderr: ${r.stderr})`)
  t.equal(r.stderr, '', 'nothing on stderr')
  return r.stdout
}

/** Writes `values` as versions of `key` straight through the HTTP API: setup that needs no CLI run. */
async function seed (key: string, ...values: Array<object | null>): Promise<void> {
  for (const value of values) {
    const res = value === null ? await daemon.request('DELETE', `/v1/entities/${key}`) : await daemon.request('PUT', `/v1/entities/${key}`, { body: value })
    if (res.status >= 300) throw new Error(`seeding ${key}: ${res.text}`)
  }
}

t.test('put, patch, merge and delete print "KEY version N"; get prints the value', async t => {
  t.equal(await ok(t, ['put', 'rw/db', '{"user":"app","password":"one"}']), 'rw/db version 1\n')
  t.equal(await ok(t, ['patch', 'rw/db', '[{"op":"replace","path":"/password","value":"two"}]', '--if-version', '1']), 'rw/db version 2\n')
  t.equal(await ok(t, ['patch', 'rw/db', '--merge', '{"user":null,"rotated":true}']), 'rw/db version 3\n')
  const [pretty, field, other, older] = await Promise.all([
    ok(t, ['get', 'rw/db']), ok(t, ['get', 'rw/db', '--field', 'password']), ok(t, ['get', 'rw/db', '--field', 'rotated']), ok(t, ['get', 'rw/db', '--version', '1'])
  ])
  t.equal(pretty, '{\n  "password": "two",\n  "rotated": true\n}\n', 'the value as pretty JSON')
  t.equal(field, 'two\n', 'a string field raw')
  t.equal(other, 'true\n', 'any other field as JSON')
  t.same(JSON.parse(older), { user: 'app', password: 'one' }, 'an older version')
  t.equal(await ok(t, ['delete', 'rw/db', '--if-version', '3']), 'rw/db version 4\n')
  t.equal(await ok(t, ['put', 'rw/db', '{"again":true}', '--if-absent']), 'rw/db version 5\n', 'a deleted key counts as absent')
})

t.test('--json: writes answer {key, version}; get answers the entity, or with --field the field', async t => {
  t.same(JSON.parse(await ok(t, ['put', 'rw/json', '{"a":1}', '--json'])), { key: 'rw/json', version: 1 })
  t.same(JSON.parse(await ok(t, ['--json', 'patch', 'rw/json', '[{"op":"add","path":"/b","value":2}]'])), { key: 'rw/json', version: 2 }, '--json before the command too')
  t.same(JSON.parse(await ok(t, ['patch', 'rw/json', '--merge', '{"a":null}', '--json'])), { key: 'rw/json', version: 3 })
  const [got, field] = await Promise.all([ok(t, ['get', 'rw/json', '--json']), ok(t, ['get', 'rw/json', '--field', 'b', '--json'])])
  const entity = JSON.parse(got)
  t.match(entity, { key: 'rw/json', version: 3, value: { b: 2 }, meta: { op: 'patch', nodeId: daemon.nodeId, correlationId: String, updatedAt: String } })
  t.same(Object.keys(entity).sort(), ['key', 'meta', 'value', 'version'])
  t.equal(field, '2\n')
  t.same(JSON.parse(await ok(t, ['delete', 'rw/json', '--json'])), { key: 'rw/json', version: 4 })
  const tombstone = JSON.parse(await ok(t, ['get', 'rw/json', '--version', '4', '--json']))
  t.match(tombstone, { key: 'rw/json', version: 4, meta: { op: 'delete' } })
  t.notOk('value' in tombstone, 'a delete has no value')
})

t.test('put takes the value from an argument, a file, or stdin', async t => {
  const dir = await shortTempDir(t)
  const file = join(dir, 'value.json')
  await writeFile(file, '{"from":"file"}\n')
  t.equal(await ok(t, ['put', 'rw/src', '--file', file]), 'rw/src version 1\n')
  t.same((await daemon.request('GET', '/v1/entities/rw/src')).json.value, { from: 'file' })
  t.equal(await ok(t, ['put', 'rw/src', '-'], '{"from":"stdin"}'), 'rw/src version 2\n')
  t.same((await daemon.request('GET', '/v1/entities/rw/src')).json.value, { from: 'stdin' })
  t.equal(await ok(t, ['put', 'rw/src', '--file', '-'], '{"from":"stdin again"}'), 'rw/src version 3\n')
  t.equal(await ok(t, ['patch', 'rw/src', '-'], '[{"op":"add","path":"/n","value":1}]'), 'rw/src version 4\n', 'patch reads stdin too')
  t.same((await daemon.request('GET', '/v1/entities/rw/src')).json.value, { from: 'stdin again', n: 1 })
})

t.test('ls lists live keys under a prefix with version and update time', async t => {
  await Promise.all([seed('ls/a', { x: 1 }), seed('ls/b', { x: 1 }), seed('ls/c', { x: 1 }, null), seed('other/d', { x: 1 })])
  const [text, json, all] = await Promise.all([ok(t, ['ls', 'ls/']), ok(t, ['ls', 'ls/', '--json']), ok(t, ['ls', '--json'])])
  const lines = text.trimEnd().split('\n')
  t.match(lines[0], /^KEY\s+VERSION\s+UPDATED$/)
  t.match(lines.slice(1), [/^ls\/a\s+1\s+\d{4}-\d\d-\d\dT/, /^ls\/b\s+1\s+\d{4}-/])
  t.equal(lines.length, 3, 'the deleted key and other prefixes are left out')
  const items = JSON.parse(json)
  t.match(items, [{ key: 'ls/a', version: 1, updatedAt: String }, { key: 'ls/b', version: 1, updatedAt: String }])
  t.equal(items.length, 2)
  t.ok(JSON.parse(all).some((i: { key: string }) => i.key === 'other/d'), 'no prefix: every key')
})

t.test('versions lists the retained versions with op, writer, correlation id and changed paths', async t => {
  await seed('ver/k', { a: 1, b: 1 }, { a: 1, b: 2 }, null)
  const [text, json] = await Promise.all([ok(t, ['versions', 'ver/k']), ok(t, ['versions', 'ver/k', '--json'])])
  const lines = text.trimEnd().split('\n')
  t.match(lines[0], /^VERSION\s+SEQ\s+OP\s+UPDATED\s+NODE\s+SIGNER\s+CORRELATION\s+CHANGED$/)
  t.match(lines[1], new RegExp(`^1\\s+\\d+\\s+put\\s+\\S+\\s+${daemon.nodeId}\\s+-\\s+[0-9a-f-]{36}\\s+/a /b$`), 'no signer in open mode')
  t.match(lines[2], /^2\s+\d+\s+put\s+.*\s\/b$/)
  t.match(lines[3], /^3\s+\d+\s+delete\s/)
  const versions = JSON.parse(json)
  t.match(versions, [
    { version: 1, seq: Number, op: 'put', meta: { nodeId: daemon.nodeId, correlationId: String }, patch: Array },
    { version: 2, op: 'put', patch: [{ op: 'replace', path: '/b', value: 2 }] },
    { version: 3, op: 'delete' }
  ])
})

t.test('diff prints the RFC 6902 patch from one version to another', async t => {
  await seed('diff/k', { user: 'app', password: 'one' }, { password: 'two', rotated: true }, null)
  const [forward, backward, none, deleted] = await Promise.all([
    ok(t, ['diff', 'diff/k', '1', '2']), ok(t, ['diff', 'diff/k', '2', '1', '--json']), ok(t, ['diff', 'diff/k', '2', '2']), ok(t, ['diff', 'diff/k', '2', '3', '--json'])
  ])
  t.equal(forward, 'replace /password "two"\nremove /user\nadd /rotated true\n')
  t.same(JSON.parse(backward), [
    { op: 'remove', path: '/rotated' },
    { op: 'replace', path: '/password', value: 'one' },
    { op: 'add', path: '/user', value: 'app' }
  ])
  t.equal(none, '', 'no changes, no output')
  t.same(JSON.parse(deleted), [{ op: 'remove', path: '/rotated' }, { op: 'remove', path: '/password' }], 'a delete counts as {}')
})

t.test('rollback writes an old value as a new version, conditional on the latest', async t => {
  await seed('rb/k', { password: 'one' }, { password: 'two' })
  t.equal(await ok(t, ['rollback', 'rb/k', '--to', '1']), 'rb/k version 3\n')
  t.same((await daemon.request('GET', '/v1/entities/rb/k')).json.value, { password: 'one' })
  t.same(JSON.parse(await ok(t, ['rollback', 'rb/k', '--to', '2', '--if-version', '3', '--json'])), { key: 'rb/k', version: 4 })
  const stale = await runCli(['rollback', 'rb/k', '--to', '1', '--if-version', '3'], { socket })
  t.equal(stale.code, 3, 'a stale --if-version is a conflict')
  t.match(stale.stderr, /^credreg: rb\/k: expected version 3, but the latest version is 4 \(VERSION_CONFLICT\)\n$/)
  await seed('rb/k', null)
  t.equal(await ok(t, ['rollback', 'rb/k', '--to', '2']), 'rb/k version 6\n', 'a deleted key can be brought back')
  const toDelete = await runCli(['rollback', 'rb/k', '--to', '5'], { socket })
  t.equal(toDelete.code, 2, 'rolling back to a delete is refused')
  t.match(toDelete.stderr, /version 5 is a delete.*\(BAD_REQUEST\)/)
})

t.test('status describes the daemon; --json answers its status object', async t => {
  const [text, json] = await Promise.all([ok(t, ['status']), ok(t, ['status', '--json'])])
  const fields: Array<[string, string]> = [['node', daemon.nodeId], ['mode', 'standalone'], ['namespace', 'default'], ['applied seq', '\\d+'], ['lag', '\\d+'], ['nats', 'none \\(standalone\\)'], ['entities', '\\d+']]
  for (const [name, value] of fields) t.match(text, new RegExp(`^${name}\\s+${value}$`, 'm'), name)
  const status = JSON.parse(json)
  t.match(status, { nodeId: daemon.nodeId, mode: 'standalone', namespace: 'default', appliedSeq: Number, logSeq: Number, lag: Number, nats: { connected: false }, entities: Number, version: String })
})

t.test('nodes on a standalone daemon lists itself, with --key the version it holds', async t => {
  await seed('nodes/k', { v: 1 }, { v: 2 })
  const [text, json, keyJson] = await Promise.all([ok(t, ['nodes', '--key', 'nodes/k']), ok(t, ['nodes', '--json']), ok(t, ['nodes', '--key', 'nodes/k', '--json'])])
  const lines = text.trimEnd().split('\n')
  t.match(lines[0], /^NODE\s+HOST\s+APPLIED SEQ\s+LAG\s+LAST SEEN\s+CREDREG\s+KEY VERSION\s+STATE$/)
  t.match(lines[1], new RegExp(`^${daemon.nodeId}\\s+\\S+\\s+\\d+\\s+\\d+\\s+now\\s+\\S+\\s+2\\s+current$`))
  t.match(JSON.parse(json), [{ nodeId: daemon.nodeId, hostname: String, appliedSeq: Number, lag: Number, lastSeenS: 0, version: String, startedAt: String }])
  t.match(JSON.parse(keyJson), [{ nodeId: daemon.nodeId, keyVersion: 2 }])
})
