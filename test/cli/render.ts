/**
 * `credreg render` against a real daemon: one atomic switch and one
 * --on-change run per changeset, a reader that never sees a partial or mixed
 * file, strict templates that keep the previous file, and the daemon
 * absent at start.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runCli, startCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket

async function commit (changes: object[]): Promise<void> {
  const answer = await daemon.request('POST', '/v1/changesets', { body: { changes } })
  if (answer.status !== 201) throw new Error(`changeset refused: ${answer.text}`)
}

t.test('--once renders the keys into a 0600 file; a missing key or field fails with exit 4 and keeps the previous file', async t => {
  const dir = t.testdir({ 'db.tpl': 'user={{ secret["once/db"].user }}\npassword={{ secret["once/db"].password }}\n' })
  await commit([{ key: 'once/db', op: 'put', value: { user: 'app', password: 's3cret' } }])
  const out = join(dir, 'db.conf')
  const first = await runCli(['render', join(dir, 'db.tpl'), '--out', out, '--once'], { socket })
  t.equal(first.code, 0, first.stderr)
  t.equal(await readFile(out, 'utf8'), 'user=app\npassword=s3cret\n')
  t.equal((await stat(out)).mode & 0o777, 0o600, 'mode 0600 by default')
  t.match(first.stderr, /db\.conf written \(\d+ bytes\)/)

  await writeFile(join(dir, 'missing.tpl'), 'a={{ secret["once/db"].password }} b={{ secret["once/none"].password }}\n')
  const missingKey = await runCli(['render', join(dir, 'missing.tpl'), '--out', out, '--once'], { socket })
  t.equal(missingKey.code, 4, 'NOT_FOUND: exit 4')
  t.match(missingKey.stderr, /no key once\/none/)
  t.equal(await readFile(out, 'utf8'), 'user=app\npassword=s3cret\n', 'previous file intact')

  await writeFile(join(dir, 'field.tpl'), 'x={{ secret["once/db"].nope }}\n')
  const missingField = await runCli(['render', join(dir, 'field.tpl'), '--out', out, '--once'], { socket })
  t.equal(missingField.code, 4)
  t.match(missingField.stderr, /missing field once\/db\.nope/)
  t.equal(await readFile(out, 'utf8'), 'user=app\npassword=s3cret\n', 'previous file intact')

  const other = await runCli(['render', join(dir, 'db.tpl'), '--out', join(dir, 'other.conf'), '--once', '--mode', '0640'], { socket })
  t.equal(other.code, 0)
  t.equal((await stat(join(dir, 'other.conf'))).mode & 0o777, 0o640, '--mode')
})

t.test('--stage pending: taken with --test (which implies it); any other stage, or no --test, is refused with exit 2', async t => {
  const dir = t.testdir({ 'db.tpl': 'password={{ secret["stage/db"].password }}\n' })
  await commit([{ key: 'stage/db', op: 'put', value: { password: 'p1' } }])
  const out = join(dir, 'db.conf')
  const taken = await runCli(['render', join(dir, 'db.tpl'), '--out', out, '--once', '--stage', 'pending', '--test', 'true'], { socket })
  t.equal(taken.code, 0, taken.stderr)
  t.equal(await readFile(out, 'utf8'), 'password=p1\n', 'FILE holds the current values')
  const other = await runCli(['render', join(dir, 'db.tpl'), '--out', out, '--once', '--stage', 'current', '--test', 'true'], { socket })
  t.equal(other.code, 2)
  t.match(other.stderr, /--stage.*the only stage is pending.*"current"/)
  const untested = await runCli(['render', join(dir, 'db.tpl'), '--out', out, '--once', '--stage', 'pending'], { socket })
  t.equal(untested.code, 2)
  t.match(untested.stderr, /--stage pending .*--test, which is missing/)
  const help = await runCli(['render', '--help'], { socket })
  t.match(help.stdout, /--stage <stage>[^]*--test <command>[^]*implies\s+--stage\s+pending/)
})

t.test('a template that reads anything but secret["literal/key"], or files, is refused with exit 2', async t => {
  const dir = t.testdir({
    'var.tpl': '{{ env.HOME }}',
    'dynamic.tpl': '{% assign k = "once/db" %}{{ secret[k].user }}',
    'include.tpl': '{% include "/etc/passwd" %}',
    'filter.tpl': '{{ secret["once/db"].user | nosuchfilter }}'
  })
  for (const name of ['var', 'dynamic', 'filter']) {
    const r = await runCli(['render', join(dir, `${name}.tpl`), '--out', join(dir, 'x'), '--once'], { socket })
    t.equal(r.code, 2, `${name}: ${r.stderr}`)
  }
  const include = await runCli(['render', join(dir, 'include.tpl'), '--out', join(dir, 'x'), '--once'], { socket })
  t.not(include.code, 0, 'include reads no file')
  t.notMatch(include.stderr + include.stdout, /root:/)
})

t.test('a 2-key changeset makes one switch and one --on-change run; a reader during 200 changesets never sees a partial or mixed file', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'pair.tpl'), 'a={{ secret["pair/a"].n }}\nb={{ secret["pair/b"].n }}\nend\n')
  await commit([{ key: 'pair/a', op: 'put', value: { n: 0 } }, { key: 'pair/b', op: 'put', value: { n: 0 } }])
  const out = join(dir, 'pair.conf')
  const runs = join(dir, 'runs')
  const render = startCli(['render', join(dir, 'pair.tpl'), '--out', out, '--on-change', `echo "$CREDREG_FILE" >> ${runs}`], { socket })
  t.teardown(async () => { await render.stop('SIGKILL') })
  await render.waitFor(line => line.includes('written') && line.includes('(start)'), 'stderr')
  const firstInode = (await stat(out)).ino

  await commit([{ key: 'pair/a', op: 'put', value: { n: 1 } }, { key: 'pair/b', op: 'put', value: { n: 1 } }])
  await render.waitFor(line => /written.*change/.test(line), 'stderr')
  await render.waitFor(line => line.includes('--on-change exited 0'), 'stderr')
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(await readFile(out, 'utf8'), 'a=1\nb=1\nend\n')
  t.equal((await readFile(runs, 'utf8')).trim().split('\n').length, 1, 'one --on-change run')
  t.equal(render.stderr().split('\n').filter(line => /written.*change/.test(line)).length, 1, 'one render of the changeset')
  t.not((await stat(out)).ino, firstInode, 'the file was switched (a new inode), not rewritten in place')

  const reading = { on: true }
  let reads = 0
  const seen = new Set<string>()
  const bad: string[] = []
  const reader = (async () => {
    while (reading.on) {
      const text = await readFile(out, 'utf8')
      reads++
      const match = /^a=(\d+)\nb=(\d+)\nend\n$/.exec(text)
      if (match === null || match[1] !== match[2]) bad.push(text)
      else seen.add(match[1] as string)
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  for (let n = 2; n <= 201; n++) {
    await commit([{ key: 'pair/a', op: 'put', value: { n } }, { key: 'pair/b', op: 'put', value: { n } }])
    if (n % 20 === 0) await new Promise(resolve => setTimeout(resolve, 150))
  }
  const deadline = Date.now() + 10_000
  while (await readFile(out, 'utf8') !== 'a=201\nb=201\nend\n' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  reading.on = false
  await reader
  t.same(bad, [], `no partial or mixed file in ${reads} reads`)
  t.ok(seen.has('201'), 'the last changeset rendered')
  const renders = (): number => render.stderr().split('\n').filter(line => /written.*change/.test(line)).length
  const onChange = async (): Promise<number> => (await readFile(runs, 'utf8')).trim().split('\n').length
  // The last switch's --on-change run may still be under way: it is counted once it wrote its line.
  const settle = Date.now() + 5_000
  while (await onChange() < renders() && Date.now() < settle) await new Promise(resolve => setTimeout(resolve, 50))
  t.ok(renders() < 200, `bursts coalesce: ${renders()} renders for 200 changesets`)
  t.equal(await onChange(), renders(), 'one --on-change run per switch')

  const { code } = await render.stop('SIGTERM')
  t.equal(code, 0, 'SIGTERM ends it with exit 0')
})

t.test('watching: a render that fails keeps the previous file and the next change renders again', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'f.tpl'), 'p={{ secret["keep/db"].password }}\n')
  await commit([{ key: 'keep/db', op: 'put', value: { password: 'one' } }])
  const out = join(dir, 'f.conf')
  const render = startCli(['render', join(dir, 'f.tpl'), '--out', out], { socket })
  t.teardown(async () => { await render.stop('SIGKILL') })
  await render.waitFor(line => line.includes('(start)'), 'stderr')
  await commit([{ key: 'keep/db', op: 'put', value: { user: 'no password' } }])
  await render.waitFor(line => line.includes('kept: render failed'), 'stderr')
  t.equal(await readFile(out, 'utf8'), 'p=one\n', 'previous file intact')
  await commit([{ key: 'keep/db', op: 'put', value: { password: 'two' } }])
  await render.waitFor(line => /written.*change/.test(line), 'stderr')
  t.equal(await readFile(out, 'utf8'), 'p=two\n')
  t.equal((await render.stop('SIGINT')).code, 0)
})

t.test('no daemon: exit 5 at once, or after --wait', async t => {
  const dir = t.testdir({ 'x.tpl': '{{ secret["a/b"].c }}' })
  const args = ['render', join(dir, 'x.tpl'), '--out', join(dir, 'x'), '--once']
  const absent = join(dir, 'none.sock')
  const now = await runCli(args, { socket: absent })
  t.equal(now.code, 5, now.stderr)
  const started = Date.now()
  const waited = await runCli([...args, '--wait', '1s'], { socket: absent })
  t.equal(waited.code, 5)
  t.ok(Date.now() - started >= 1000, 'waited')
  t.match(waited.stderr, /did not answer within 1s/)
})
