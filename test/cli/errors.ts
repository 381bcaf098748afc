/**
 * Every exit code of the CLI, the one-line error on stderr (and its `--json`
 * form), and the help that documents them. Each exit code is checked on the
 * real compiled CLI; the full tables of cases also run through `main` in
 * this process, where a process per case would only cost time.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ERROR_CODES } from '../../lib/errors.js'
import { runCli, runMain, type CliOptions, type CliResult } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

const dir = await shortTempDir(t)
const tokenFile = join(dir, 'token')
await writeFile(tokenFile, 'the-token-0123456789abcdef0123456\n', { mode: 0o600 })
const daemon = await startDaemon({ args: ['--listen', '127.0.0.1:0', '--token-file', tokenFile] })
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket
// The tests share one key, which none of them changes, so they may run side by side.
t.jobs = 3
const seeded = await daemon.request('PUT', '/v1/entities/err/k', { body: { password: 'one' } })
if (seeded.status !== 201) throw new Error(seeded.text)

/** A command line, the exit code and error code it must end with, and what the message says. */
type Case = [args: string[], exit: number, code: string, message?: RegExp]

/** Expects `result` to have failed with `exit` and the one-line error of `code`, nothing on stdout. */
function failed (t: Test, result: CliResult, exit: number, code: string, message?: RegExp): void {
  t.equal(result.code, exit, `exit code ${exit} (stderr: ${result.stderr})`)
  t.equal(result.stdout, '', 'nothing on stdout')
  t.match(result.stderr, new RegExp(`^credreg: [^\\n]+ \\(${code}\\)\\n$`), `one line ending in (${code})`)
  if (message !== undefined) t.match(result.stderr, message)
}

/** Runs every case through `main` in this process, and the first `spawned` of them through the real CLI too. */
async function cases (t: Test, list: Case[], spawned: number, options: CliOptions = { socket }): Promise<void> {
  const [inProcess, real] = await Promise.all([
    Promise.all(list.map(async ([args]) => await runMain(args, options))),
    Promise.all(list.slice(0, spawned).map(async ([args]) => await runCli(args, options)))
  ])
  list.forEach(([args, exit, code, message], i) => {
    t.test(`credreg ${args.join(' ')}`, async t => {
      failed(t, inProcess[i] as CliResult, exit, code, message)
      if (i < spawned) t.test('the compiled CLI', async t => failed(t, real[i] as CliResult, exit, code, message))
    })
  })
}

t.test('exit 2: usage errors and invalid input', async t => {
  await cases(t, [
    [['get'], 2, 'BAD_REQUEST', /missing required argument 'key'/],
    [['get', 'err/k', '--bogus'], 2, 'BAD_REQUEST', /unknown option '--bogus'/],
    [['put', 'err/k', '{"password":'], 2, 'BAD_REQUEST', /the value is not valid JSON/],
    [['patch', 'err/k', '{"op":"add"}'], 2, 'PATCH_FAILED', /array of operations/],
    [['get', 'Err Key'], 2, 'INVALID_KEY'],
    [['get', 'err/k', 'extra'], 2, 'BAD_REQUEST', /too many arguments/],
    [['bogus'], 2, 'BAD_REQUEST', /unknown command 'bogus'/],
    [['get', 'err/k', '--version', 'x'], 2, 'BAD_REQUEST', /--version <n>.*whole number/],
    [['diff', 'err/k', '0', '1'], 2, 'BAD_REQUEST', /versions start at 1/],
    [['rollback', 'err/k'], 2, 'BAD_REQUEST', /--to <n>' not specified/],
    [['keygen'], 2, 'BAD_REQUEST', /--out <path>' not specified/],
    [['put', 'err/k', '{}', '--if-version', '1', '--if-absent'], 2, 'BAD_REQUEST', /cannot be used with/],
    [['put', 'err/k'], 2, 'BAD_REQUEST', /no value/],
    [['put', 'err/k', '{}', '--file', '/x'], 2, 'BAD_REQUEST', /not both/],
    [['put', 'err/k', '--file', join(dir, 'missing.json')], 2, 'BAD_REQUEST', /cannot read/],
    [['put', 'err/k', '[1,2]'], 2, 'INVALID_VALUE', /must be a JSON object/],
    [['put', 'err/../k', '{}'], 2, 'INVALID_KEY'],
    [['patch', 'err/k', '[{"op":"test","path":"/password","value":"nope"}]'], 2, 'PATCH_FAILED'],
    [['patch', 'err/k', '[{"op":"add"'], 2, 'BAD_REQUEST', /the patch is not valid JSON/],
    [['patch', 'err/k', '--merge', '[1]'], 2, 'PATCH_FAILED'],
    [['nodes', '--key', 'a//b'], 2, 'INVALID_KEY']
  ], 5)
  await cases(t, [
    [['status', '--url', 'http://127.0.0.1:1'], 2, 'BAD_REQUEST', /--url needs --token-file/],
    [['status', '--token-file', join(dir, 'none')], 2, 'INVALID_CONFIG', /token file .* cannot be read/],
    [['status', '--url', 'http://127.0.0.1:1', '--token-file', join(dir, 'none')], 2, 'INVALID_CONFIG', /token file .* cannot be read/],
    [['status', '--url', 'nope', '--token-file', tokenFile], 2, 'BAD_REQUEST', /is not a URL/],
    [['dev', '--url', 'http://127.0.0.1:1', '--token-file', tokenFile], 2, 'BAD_REQUEST', /--url and --token-file do not apply/]
  ], 0, {})
})

t.test('exit 2 also for a missing command, after the help on stderr', async t => {
  const r = await runCli([])
  t.equal(r.code, 2)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^Usage: credreg /)
})

t.test('exit 3: version conflicts', async t => {
  await cases(t, [
    [['put', 'err/k', '{"password":"x"}', '--if-version', '7'], 3, 'VERSION_CONFLICT', /err\/k: expected version 7, but the latest version is 1/],
    [['put', 'err/k', '{"password":"x"}', '--if-absent'], 3, 'VERSION_CONFLICT', /expected the key to be absent/],
    [['patch', 'err/k', '--merge', '{"a":1}', '--if-version', '2'], 3, 'VERSION_CONFLICT'],
    [['delete', 'err/k', '--if-version', '2'], 3, 'VERSION_CONFLICT'],
    [['rollback', 'err/k', '--to', '1', '--if-version', '2'], 3, 'VERSION_CONFLICT']
  ], 1)
  t.equal((await daemon.request('GET', '/v1/entities/err/k')).json.version, 1, 'nothing was written')
})

t.test('exit 4: not found', async t => {
  await cases(t, [
    [['get', 'err/missing'], 4, 'NOT_FOUND', /err\/missing does not exist/],
    [['get', 'err/k', '--field', 'user'], 4, 'NOT_FOUND', /has no field "user"/],
    [['get', 'err/k', '--version', '9'], 4, 'NOT_FOUND'],
    [['versions', 'err/missing'], 4, 'NOT_FOUND'],
    [['diff', 'err/k', '1', '9'], 4, 'NOT_FOUND'],
    [['rollback', 'err/k', '--to', '9'], 4, 'NOT_FOUND'],
    [['patch', 'err/missing', '[]'], 4, 'NOT_FOUND'],
    [['delete', 'err/missing'], 4, 'NOT_FOUND']
  ], 2)
})

t.test('exit 5: no daemon on the socket', async t => {
  const gone = join(dir, 'gone.sock')
  await cases(t, [
    [['status'], 5, 'UNAVAILABLE', /cannot be reached/],
    [['watch'], 5, 'UNAVAILABLE'],
    [['get', 'err/k'], 5, 'UNAVAILABLE'],
    [['put', 'err/k', '{}'], 5, 'UNAVAILABLE'],
    [['nodes'], 5, 'UNAVAILABLE']
  ], 2, { socket: gone })
  const [fromEnv, byDefault] = await Promise.all([
    runCli(['ls'], { env: { CREDREG_SOCKET: gone } }),
    runCli(['ls'], { env: { XDG_DATA_HOME: dir } })
  ])
  failed(t, fromEnv, 5, 'UNAVAILABLE', new RegExp(`${gone} cannot be reached`))
  t.notMatch(fromEnv.stderr, /credreg dev/, 'a socket the user chose gets no hint')
  failed(t, byDefault, 5, 'UNAVAILABLE', new RegExp(`${join(dir, 'credreg', 'dev', 'credregd.sock')} cannot be reached.*start one with \`credreg dev\``, 'i'))
})

t.test('--url and --token-file reach the TCP listener; a wrong token exits 1', async t => {
  const url = `http://127.0.0.1:${daemon.tcpPort as number}`
  const wrongToken = join(dir, 'wrong')
  await writeFile(wrongToken, 'not-the-token-0123456789abcdef012345', { mode: 0o600 })
  const [good, bad, both] = await Promise.all([
    runCli(['get', 'err/k', '--field', 'password', '--url', url, '--token-file', tokenFile]),
    runCli(['--url', url, '--token-file', wrongToken, 'status']),
    runMain(['status', '--url', url, '--token-file', tokenFile], { socket })
  ])
  t.same(good, { code: 0, stdout: 'one\n', stderr: '' })
  failed(t, bad, 1, 'UNAUTHORIZED')
  failed(t, both, 2, 'BAD_REQUEST', /exclude each other/)
})

t.test('with --json, stderr gets {"code","message"} and the details of the error', async t => {
  const [usage, conflict, missing] = await Promise.all([
    runCli(['get', '--json']),
    runCli(['put', 'err/k', '{}', '--if-version', '5', '--json'], { socket }),
    runCli(['--json', 'get', 'err/missing'], { socket })
  ])
  t.equal(usage.code, 2)
  t.same(JSON.parse(usage.stderr), { code: 'BAD_REQUEST', message: "missing required argument 'key'" })
  t.equal(conflict.code, 3)
  t.same(JSON.parse(conflict.stderr), { code: 'VERSION_CONFLICT', message: 'err/k: expected version 5, but the latest version is 1', key: 'err/k', expectedVersion: 5, currentVersion: 1 })
  t.equal(missing.code, 4)
  t.match(JSON.parse(missing.stderr), { code: 'NOT_FOUND', message: 'err/missing does not exist' })
  for (const r of [usage, conflict, missing]) {
    t.equal(r.stdout, '')
    t.equal(r.stderr.split('\n').length, 2, 'one line')
  }
})

t.test('--help documents every command, the global options and the exit code of every error code', async t => {
  const commands = ['get', 'put', 'patch', 'delete', 'ls', 'versions', 'diff', 'rollback', 'watch', 'status', 'whoami', 'audit', 'nodes', 'keygen', 'dev', 'admin']
  const help = await runCli(['--help'])
  t.equal(help.code, 0)
  t.equal(help.stderr, '')
  for (const c of commands) t.match(help.stdout, new RegExp(`^  ${c} `, 'm'), `lists ${c}`)
  for (const flag of ['--socket', '--url', '--token-file', '--json', '--version', 'CREDREG_SOCKET', 'NO_COLOR']) t.match(help.stdout, flag)
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    t.match(help.stdout, new RegExp(`^  ${spec.exit}  [^\\n]+\\n     [^\\n]*\\b${code}\\b`, 'm'), `${code} under exit ${spec.exit}`)
  }
})
