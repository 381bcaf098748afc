/**
 * The README's staged-rotation walkthrough with the real CLI on `credreg dev`:
 * stage two keys, read them pending, see the rotation's status, acknowledge,
 * release, read the new values and one new version per key; then the
 * refusals and their exit codes, and the flags' own checks.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { runCli, runMain, startCli, type CliResult } from '../fixtures/cli.js'
import { shortTempDir } from '../fixtures/daemon.js'

const home = await shortTempDir(t)
const env = { XDG_DATA_HOME: home }
const dev = startCli(['dev'], { env })
t.teardown(async () => { await dev.stop('SIGINT') })
await dev.waitFor(line => line === 'Stop it with Ctrl-C.')
const node = /node {6}(\S+)/.exec(dev.stdout())?.[1] as string

/** `credreg ARGS` on the dev daemon. */
async function credreg (args: string[], input?: string): Promise<CliResult> {
  return await runCli(args, { env, ...(input !== undefined ? { input } : {}) })
}

/** `credreg ARGS`, expected to exit 0 with nothing on stderr but notes. */
async function ok (t: Test, args: string[], input?: string): Promise<string> {
  const r = await credreg(args, input)
  // Should the dev daemon be gone, what it said last tells why.
  const devSaid = r.code === 0 ? '' : `; credreg dev said: ${dev.stdout().slice(-400)} ${dev.stderr().slice(-800)}`
  t.equal(r.code, 0, `credreg ${args.join(' ')} exits 0 (stderr: ${r.stderr}${devSaid})`)
  return r.stdout
}

t.test('the walkthrough: stage two keys, ack, release; one new version per key', async t => {
  await ok(t, ['put', 'app/db', '{"user":"app","password":"old"}'])
  await ok(t, ['put', 'app/api', '{"token":"t1"}'])
  const doc = join(home, 'rotate.json')
  await writeFile(doc, JSON.stringify({
    changes: [
      { key: 'app/db', op: 'merge', patch: { password: 'n3w' } },
      { key: 'app/api', op: 'put', value: { token: 't2' }, ifVersion: 1 }
    ]
  }))
  const staged = await credreg(['stage', '--changes', doc, '--deadline', '1h'])
  t.equal(staged.code, 0, staged.stderr)
  const id = /^rotation +(\S+)$/m.exec(staged.stdout)?.[1] as string
  t.match(id, /^[0-9a-f-]{36}$/, 'prints the rotation id')
  t.match(staged.stdout, /^status +staged$/m)
  t.match(staged.stdout, new RegExp(`^acks +0 of 1 ok, waiting for ${node}$`, 'm'), 'and whom it waits for: the one standalone host')
  t.match(staged.stdout, /^deadline +\S+ \(aborted if still open then\)$/m)
  t.match(staged.stdout, /^app\/db +patch +1 +2$/m, 'each key: built on version 1, becomes 2')
  t.match(staged.stdout, /^app\/api +put +1 +2$/m)
  t.match(staged.stderr, `credreg ack ${id}`, 'says what comes next')

  t.equal(await ok(t, ['get', 'app/db', '--pending', '--field', 'password']), 'n3w\n', 'the staged value, on purpose')
  t.equal(await ok(t, ['get', 'app/db', '--field', 'password']), 'old\n', 'the current value, otherwise')
  const listed = await ok(t, ['rotations'])
  t.match(listed, new RegExp(`^${id} +\\S+ +${node} +app/db app/api +0 of 1 ok, waiting for ${node} +\\S+$`, 'm'))

  const status = await ok(t, ['rotation', 'status', id])
  t.match(status, /^HOST +ACK +HOLDS +ACKED AT +MESSAGE$/m)
  t.match(status, new RegExp(`^${node} +silent +yes$`, 'm'), 'silent, and holds the staged values')

  const refused = await credreg(['release', id])
  t.equal(refused.code, 3, 'a release without the ack: exit 3')
  t.match(refused.stderr, new RegExp(`no ack from ${node} \\(ROTATION_REFUSED\\)\\n$`))
  t.equal(refused.stdout, '')

  t.equal(await ok(t, ['ack', id, '--message', 'login ok']), `rotation ${id}: acknowledged ok; 1 of 1 ok\n`)
  t.match(await ok(t, ['rotation', 'status', id]), new RegExp(`^${node} +ok +yes +\\S+ +login ok$`, 'm'))
  const released = await credreg(['release', id])
  t.equal(released.code, 0, released.stderr)
  t.equal(released.stdout, 'app/db version 2\napp/api version 2\n', '"KEY version N" per key')
  t.match(released.stderr, /released at sequence \d+/)

  t.equal(await ok(t, ['get', 'app/db', '--field', 'password']), 'n3w\n', 'the new value is current')
  t.equal(await ok(t, ['get', 'app/api', '--field', 'token']), 't2\n')
  const versions = await Promise.all(['app/db', 'app/api'].map(async key => JSON.parse(await ok(t, ['versions', key, '--json'])) as Array<{ version: number, seq: number }>))
  for (const history of versions) t.same(history.map(v => v.version), [1, 2], 'one new version per key')
  t.equal(versions[0]?.[1]?.seq, versions[1]?.[1]?.seq, 'both at the release\'s one sequence')
  t.match(await ok(t, ['rotation', 'status', id]), /^released +at sequence \d+/m)
  t.equal(await ok(t, ['rotations', '--json']), '[]\n', 'no open rotation')

  const again = await credreg(['release', id])
  t.equal(again.code, 3, 'a second release: exit 3')
  t.match(again.stderr, /released already \(ROTATION_REFUSED\)/)
})

t.test('one key from stdin, --json, a failed ack, a forced release, an abort, get --pending of nothing', async t => {
  const staged = await credreg(['stage', 'one/k', '-', '--hosts', `${node},elsewhere`, '--json'], '{"v":1}')
  t.equal(staged.code, 0, staged.stderr)
  t.equal(staged.stderr, '', '--json: no notes')
  const rotation = JSON.parse(staged.stdout)
  t.match(rotation, { status: 'staged', changes: [{ key: 'one/k', builtOn: 0, version: 1, op: 'put' }], hosts: [{ nodeId: node }, { nodeId: 'elsewhere', ack: 'silent' }] })

  const failed = await credreg(['ack', rotation.id, '--fail', 'FATAL: password authentication failed'])
  t.equal(failed.code, 0, failed.stderr)
  t.match(failed.stdout, `acknowledged failed; 0 of 2 ok, 1 failed (${node}), waiting for elsewhere`)
  t.match(await ok(t, ['rotation', 'status', rotation.id]), new RegExp(`^${node} +failed +yes +\\S+ +FATAL: password authentication failed$`, 'm'))
  t.match(await ok(t, ['rotation', 'status', rotation.id]), /^elsewhere +silent +\?$/m, 'a host never heard from: holds unknown')
  const refused = await credreg(['release', rotation.id])
  t.equal(refused.code, 3)
  t.match(refused.stderr, `failed on ${node}`)
  const forced = await credreg(['release', rotation.id, '--force', '--json'])
  t.equal(forced.code, 0, forced.stderr)
  t.match(JSON.parse(forced.stdout), { status: 'released', closed: { forced: true } })

  const other = JSON.parse(await ok(t, ['stage', 'one/k', '{"v":2}', '--json']))
  t.equal((await credreg(['stage', 'one/k', '{"v":3}'])).code, 3, 'a key staged by an open rotation: exit 3')
  t.match(await ok(t, ['abort', other.id, '--reason', 'superseded']), `rotation ${other.id} aborted at sequence`)
  t.match(await ok(t, ['rotation', 'status', other.id]), /^aborted +at sequence \d+, \S+, by \S+: superseded$/m)
  t.equal((await credreg(['abort', other.id])).code, 3, 'a second abort: exit 3')
  const nothing = await credreg(['get', 'one/k', '--pending'])
  t.equal(nothing.code, 4, 'nothing pending: exit 4')
  t.match(nothing.stderr, /no open rotation stages one\/k \(NOT_FOUND\)/)
  t.equal((await credreg(['rotation', 'status', '01a2281e-0000-7000-8000-000000000000'])).code, 4, 'an unknown rotation: exit 4')
})

t.test('the flags\' own checks: exit 2, nothing sent', async t => {
  const cases: Array<[string[], RegExp]> = [
    [['stage', 'k', '{}', '--deadline', '10'], /'--deadline <duration>' argument '10' is invalid\. expected a duration such as 90s, 10m, 1h30m or 2d/],
    [['stage', 'k', '{}', '--deadline', '10x'], /expected a duration such as/],
    [['stage', 'k', '{}', '--deadline', '0s'], /expected a duration from 1s to 366d/],
    [['stage', 'k', '{}', '--deadline', '367d'], /expected a duration from 1s to 366d/],
    [['stage', 'k', '{}', '--hosts', 'a,,b'], /expected node ids separated by commas/],
    [['stage', 'k', '{}', '--changes', '-'], /either KEY and its value, or --changes FILE/],
    [['stage'], /nothing to stage/],
    [['stage', 'k', '[1]'], /the value must be a JSON object/],
    [['stage', '--changes', '-'], /the changes document must be a JSON object \{ "changes": \[ … \] \}/],
    [['ack', 'nope'], /a rotation id is a uuid, got "nope"/],
    [['ack', '01a2281e-0000-7000-8000-000000000000', '--fail', 'x', '--message', 'y'], /cannot be used with option '--fail/],
    [['get', 'k', '--pending', '--version', '2'], /cannot be used with option '--version/]
  ]
  // In-process: the command line is refused before any daemon is asked, so no process each is needed.
  for (const [args, message] of cases) {
    const r = await runMain(args, { socket: join(home, 'nobody.sock'), input: '[]' })
    t.equal(r.code, 2, `credreg ${args.join(' ')}: exit 2`)
    t.match(r.stderr, message)
  }
  const parsed = await runMain(['stage', 'k', '{}', '--deadline', '1h30m', '--hosts', 'a, b'], { socket: join(home, 'nobody.sock') })
  t.equal(parsed.code, 5, '1h30m and a spaced host list parse: the command gets as far as the (absent) daemon')
})
