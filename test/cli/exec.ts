/**
 * `credreg exec` against a real daemon: the child starts only once its
 * values exist, restarts once per changeset (the old child gone first, the
 * new one with the new environment), or gets one signal per changeset;
 * signals reach it and its exit code is credreg's.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket

const CHILD = `
import { appendFileSync } from 'node:fs'
const w = s => appendFileSync(process.env.LOG_FILE, s + ' ' + process.pid + '\\n')
w('start ' + process.env.DB_USER + ':' + process.env.DB_PASSWORD)
process.on('SIGHUP', () => w('hup'))
process.on('SIGTERM', () => { w('term'); process.exit(0) })
process.on('SIGINT', () => { w('int'); process.exit(7) })
process.on('exit', () => w('exit'))
setInterval(() => {}, 1000)
if (process.env.EXIT_WITH) setTimeout(() => process.exit(Number(process.env.EXIT_WITH)), 200)
`

async function commit (changes: object[]): Promise<void> {
  const answer = await daemon.request('POST', '/v1/changesets', { body: { changes } })
  if (answer.status !== 201) throw new Error(`changeset refused: ${answer.text}`)
}

async function setup (t: Test): Promise<{ dir: string, log: string, lines: () => Promise<string[]> }> {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'child.mjs'), CHILD)
  const log = join(dir, 'child.log')
  await writeFile(log, '')
  return { dir, log, lines: async () => (await readFile(log, 'utf8')).split('\n').filter(l => l !== '') }
}

function execArgs (dir: string, prefix: string, more: string[] = []): string[] {
  return ['exec', '--env', `DB_USER=${prefix}/db#/user`, '--env', `DB_PASSWORD=${prefix}/pw#/password`, ...more, '--grace', '2s', '--', process.execPath, join(dir, 'child.mjs')]
}

t.test('the child starts once every value exists; a 2-key changeset restarts it once, the old child gone before the new one starts', async t => {
  const { dir, log, lines } = await setup(t)
  const exec = startCli(execArgs(dir, 'rs'), { socket, env: { LOG_FILE: log } })
  t.teardown(async () => { await exec.stop('SIGKILL') })
  await exec.waitFor(line => line.includes('waiting for'), 'stderr')
  await commit([{ key: 'rs/db', op: 'put', value: { user: 'app' } }])
  await new Promise(resolve => setTimeout(resolve, 300))
  t.same(await lines(), [], 'not started while rs/pw is missing')
  await commit([{ key: 'rs/pw', op: 'put', value: { password: 'one' } }])
  await exec.waitFor(line => line.includes('started'), 'stderr')
  await eventually(async () => (await lines()).length >= 1, 'no start yet')

  await commit([{ key: 'rs/db', op: 'put', value: { user: 'app2' } }, { key: 'rs/pw', op: 'put', value: { password: 'two' } }])
  await exec.waitFor(line => line.includes('restarted'), 'stderr')
  await eventually(async () => (await lines()).length >= 4, 'no restart yet')
  await new Promise(resolve => setTimeout(resolve, 400))
  const events = (await lines()).map(line => line.split(' '))
  const [a, b] = [events[0]?.at(-1), events.at(-1)?.at(-1)]
  t.same(events.map(e => e.slice(0, -1).join(' ')), ['start app:one', 'term', 'exit', 'start app2:two'], 'stop, gone, then start with the new values')
  t.same(events.map(e => e.at(-1)), [a, a, a, b])
  t.not(a, b, 'a new process')
  t.equal(exec.stderr().split('\n').filter(l => l.includes('restarted')).length, 1, 'one restart for the changeset')

  const { code } = await exec.stop('SIGTERM')
  t.equal(code, 0, 'SIGTERM reaches the child, whose exit code 0 is credreg\'s')
  t.match((await lines()).slice(-2), [`term ${String(b)}`, `exit ${String(b)}`])
})

t.test('--signal SIGHUP: one SIGHUP per changeset, no restart', async t => {
  const { dir, log, lines } = await setup(t)
  await commit([{ key: 'hup/db', op: 'put', value: { user: 'app' } }, { key: 'hup/pw', op: 'put', value: { password: 'p0' } }])
  const exec = startCli(execArgs(dir, 'hup', ['--signal', 'SIGHUP']), { socket, env: { LOG_FILE: log } })
  t.teardown(async () => { await exec.stop('SIGKILL') })
  await exec.waitFor(line => line.includes('started'), 'stderr')
  await eventually(async () => (await lines()).length >= 1, 'no start yet')
  for (const n of [1, 2, 3]) {
    await commit([{ key: 'hup/db', op: 'put', value: { user: `app${n}` } }, { key: 'hup/pw', op: 'put', value: { password: `p${n}` } }])
    await exec.waitFor(line => line.includes('sent SIGHUP') && exec.stderr().split('\n').filter(l => l.includes('sent SIGHUP')).length === n, 'stderr')
    await new Promise(resolve => setTimeout(resolve, 300))
  }
  await eventually(async () => (await lines()).filter(l => l.startsWith('hup')).length >= 3, 'three SIGHUPs')
  await new Promise(resolve => setTimeout(resolve, 300))
  const events = await lines()
  t.equal(events.filter(l => l.startsWith('hup')).length, 3, 'three changesets, three SIGHUPs')
  t.equal(events.filter(l => l.startsWith('start')).length, 1, 'never restarted')
  const { code } = await exec.stop('SIGINT')
  t.equal(code, 7, 'SIGINT reaches the child; its exit code 7 is credreg\'s')
  t.ok((await lines()).some(l => l.startsWith('int')))
})

t.test('the child\'s exit code is credreg\'s; death by a signal is 128 + n', async t => {
  const { dir, log, lines } = await setup(t)
  await commit([{ key: 'ex/db', op: 'put', value: { user: 'app' } }, { key: 'ex/pw', op: 'put', value: { password: 'p' } }])
  const exits = startCli(execArgs(dir, 'ex'), { socket, env: { LOG_FILE: log, EXIT_WITH: '3' } })
  t.teardown(async () => { await exits.stop('SIGKILL') })
  await exits.waitFor(line => line.includes('exited 3'), 'stderr')
  t.equal((await exits.stop()).code, 3, 'exit 3 from the child')

  const killed = startCli(execArgs(dir, 'ex'), { socket, env: { LOG_FILE: log } })
  t.teardown(async () => { await killed.stop('SIGKILL') })
  await killed.waitFor(line => line.includes('started'), 'stderr')
  const pid = await eventually(async () => (await lines()).filter(l => l.startsWith('start')).length >= 2 && Number((await lines()).at(-1)?.split(' ').at(-1)), 'second child started')
  process.kill(pid, 'SIGKILL')
  await killed.waitFor(line => line.includes('exited 137'), 'stderr')
  t.equal((await killed.stop()).code, 137, 'SIGKILL (9): 128 + 9')
})
