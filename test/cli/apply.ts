/**
 * `credreg apply` on the real CLI against a real standalone daemon: a
 * changeset document from a file or stdin, the lines it prints, `--json`,
 * and a refused or malformed changeset (its exit code, the failure of every
 * key on stderr, nothing written). The table of malformed documents runs
 * through `main` in this process.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runCli, runMain } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket
const dir = await shortTempDir(t)

async function logSeq (): Promise<number> {
  return (await daemon.request('GET', '/v1/status')).json.logSeq as number
}

async function file (name: string, document: unknown): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, typeof document === 'string' ? document : JSON.stringify(document, null, 2))
  return path
}

t.test('apply writes a changeset from a file or stdin and prints "KEY version N" per key, in order', async t => {
  const path = await file('first.json', {
    changes: [
      { key: 'ap/db/user', op: 'put', value: { name: 'app' } },
      { key: 'ap/db/pass', op: 'put', value: { secret: 'one' }, ifAbsent: true }
    ]
  })
  const fromFile = await runCli(['apply', path], { socket })
  t.same(fromFile, { code: 0, stdout: 'ap/db/user version 1\nap/db/pass version 1\n', stderr: '' })
  const stdin = JSON.stringify({
    changes: [
      { key: 'ap/db/pass', op: 'merge', patch: { secret: 'two' }, ifVersion: 1 },
      { key: 'ap/db/note', op: 'put', value: { n: 1 } },
      { key: 'ap/db/user', op: 'delete' }
    ]
  })
  const fromStdin = await runCli(['apply', '-'], { socket, input: stdin })
  t.same(fromStdin, { code: 0, stdout: 'ap/db/pass version 2\nap/db/note version 1\nap/db/user version 2\n', stderr: '' })
  t.same((await daemon.request('GET', '/v1/entities/ap/db/pass')).json.value, { secret: 'two' })

  const versions = await runCli(['versions', 'ap/db/pass'], { socket })
  t.equal(versions.code, 0)
  const [head, ...rows] = versions.stdout.trimEnd().split('\n')
  t.match(head, /^VERSION\s+SEQ\s+OP\s+UPDATED\s+NODE\s+SIGNER\s+CORRELATION\s+CHANGED\s+CHANGESET$/, 'versions shows which changeset wrote each version')
  t.equal(rows.length, 2)
  for (const row of rows) t.match(row, /\s[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  await daemon.request('PUT', '/v1/entities/ap/single', { body: { a: 1 } })
  t.notMatch((await runCli(['versions', 'ap/single'], { socket })).stdout, /CHANGESET/, 'no column for a key no changeset wrote')
})

t.test('--json prints the whole commit result', async t => {
  const path = await file('json.json', { changes: [{ key: 'ap/json/a', op: 'put', value: { a: 1 } }, { key: 'ap/json/b', op: 'put', value: { b: 1 } }] })
  const r = await runCli(['apply', path, '--json'], { socket })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.equal(r.stdout.split('\n').length, 2, 'one line')
  const result = JSON.parse(r.stdout)
  t.match(result, { id: String, seq: Number, correlationId: String })
  t.same(result.results, [{ key: 'ap/json/a', version: 1, created: true }, { key: 'ap/json/b', version: 1, created: true }])
  t.same((await daemon.request('GET', '/v1/history/ap/json/b')).json.versions[0].changeset, { id: result.id, index: 1, size: 2 })
})

t.test('a refused changeset exits with its code\'s exit code, lists every key that failed on stderr, and writes nothing', async t => {
  await daemon.request('PUT', '/v1/entities/ap/stale/a', { body: { n: 1 } })
  await daemon.request('PUT', '/v1/entities/ap/stale/a', { body: { n: 2 } })
  await daemon.request('PUT', '/v1/entities/ap/stale/b', { body: { n: 1 } })
  const before = await logSeq()
  const stale = await file('stale.json', {
    changes: [
      { key: 'ap/stale/a', op: 'put', value: { n: 3 }, ifVersion: 1 },
      { key: 'ap/stale/b', op: 'put', value: { n: 2 }, ifAbsent: true },
      { key: 'ap/stale/ok', op: 'put', value: {} },
      { key: 'ap/stale/gone', op: 'delete' }
    ]
  })
  const conflict = await runCli(['apply', stale], { socket })
  t.equal(conflict.code, 3, 'VERSION_CONFLICT exits 3')
  t.equal(conflict.stdout, '')
  t.equal(conflict.stderr, [
    'credreg: the changeset was refused, nothing was written (VERSION_CONFLICT)',
    '  ap/stale/a     VERSION_CONFLICT  expected version 1, current version 2',
    '  ap/stale/b     VERSION_CONFLICT  expected no version (absent), current version 1',
    '  ap/stale/gone  NOT_FOUND         ap/stale/gone does not exist',
    ''
  ].join('\n'))
  const json = await runCli(['apply', stale, '--json'], { socket })
  t.equal(json.code, 3)
  t.match(JSON.parse(json.stderr), {
    code: 'VERSION_CONFLICT',
    failures: [
      { key: 'ap/stale/a', code: 'VERSION_CONFLICT', expectedVersion: 1, currentVersion: 2 },
      { key: 'ap/stale/b', code: 'VERSION_CONFLICT', currentVersion: 1 },
      { key: 'ap/stale/gone', code: 'NOT_FOUND' }
    ]
  }, '--json: the error with its failures')

  const missing = await runCli(['apply', '-'], { socket, input: JSON.stringify({ changes: [{ key: 'ap/stale/none', op: 'merge', patch: { n: 1 } }] }) })
  t.equal(missing.code, 4, 'NOT_FOUND exits 4')
  t.match(missing.stderr, /^credreg: the changeset was refused, nothing was written \(NOT_FOUND\)\n {2}ap\/stale\/none {2}NOT_FOUND {2}ap\/stale\/none does not exist\n$/)
  const patch = await runCli(['apply', '-'], { socket, input: JSON.stringify({ changes: [{ key: 'ap/stale/a', op: 'patch', ops: [{ op: 'test', path: '/n', value: 7 }] }] }) })
  t.equal(patch.code, 2, 'PATCH_FAILED exits 2')
  t.match(patch.stderr, /\(PATCH_FAILED\)\n {2}ap\/stale\/a {2}PATCH_FAILED {2}operation 0 cannot be applied/)
  t.equal(await logSeq(), before, 'nothing was written')
})

t.test('a malformed document exits 2 with BAD_REQUEST (or INVALID_KEY, INVALID_VALUE) saying what is wrong, and sends nothing', async t => {
  const before = await logSeq()
  const cases: Array<[string, string, RegExp]> = [
    ['{"changes": [', 'BAD_REQUEST', /the changeset document is not valid JSON/],
    ['[]', 'BAD_REQUEST', /the changeset document must be a JSON object \{ "changes": \[ … \] \}, not an array/],
    ['{}', 'BAD_REQUEST', /the changeset document has no "changes"/],
    ['{"changes": [], "dryRun": true}', 'BAD_REQUEST', /takes "changes" only, not "dryRun"/],
    ['{"changes": []}', 'BAD_REQUEST', /at least one change/],
    ['{"changes": {"key": "a"}}', 'BAD_REQUEST', /a changeset is an array of changes/],
    ['{"changes": [{"key": "a", "op": "upsert"}]}', 'BAD_REQUEST', /a: op must be put, patch, merge or delete, got "upsert"/],
    ['{"changes": [{"key": "a", "op": "delete"}, {"key": "a", "op": "delete"}]}', 'BAD_REQUEST', /a appears twice in the changeset/],
    ['{"changes": [{"key": "a", "op": "put", "value": {}, "ifVersion": -1}]}', 'BAD_REQUEST', /ifVersion must be an integer of at least 0/],
    ['{"changes": [{"key": "a b", "op": "delete"}]}', 'INVALID_KEY', /change 0: invalid key "a b"/],
    ['{"changes": [{"key": "a", "op": "put", "value": "s3cret"}]}', 'INVALID_VALUE', /a: a put needs value, a JSON object/]
  ]
  for (const [document, code, message] of cases) {
    const r = await runMain(['apply', await file('bad.json', document)], { socket })
    t.equal(r.code, 2, `${document}: exit 2`)
    t.equal(r.stdout, '')
    t.match(r.stderr, new RegExp(`^credreg: [^\\n]+ \\(${code}\\)\\n$`), `${document}: one line ending in (${code})`)
    t.match(r.stderr, message, document)
    t.notMatch(r.stderr, /s3cret/, 'never quotes a value')
  }
  const spawned = await runCli(['apply', '-'], { socket, input: '{"changes": 1' })
  t.equal(spawned.code, 2, 'the real CLI too')
  t.match(spawned.stderr, /^credreg: the changeset document is not valid JSON: .* \(BAD_REQUEST\)\n$/)
  const unreadable = await runCli(['apply', join(dir, 'no-such.json')], { socket })
  t.equal(unreadable.code, 2)
  t.match(unreadable.stderr, /cannot read .*no-such\.json/)
  t.equal(await logSeq(), before, 'nothing was written')
})
