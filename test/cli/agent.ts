/**
 * `credreg agent --config` against a real daemon: a changeset that touches
 * two templates switches both files and then runs the reload command once;
 * a bad configuration is refused with a clear message.
 */
import { readFile, writeFile } from 'node:fs/promises'
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

t.test('one changeset over two templates: both files written, then one reload that sees both', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'db.tpl'), 'db={{ secret["ag/db"].password }}\n')
  await writeFile(join(dir, 'api.tpl'), 'api={{ secret["ag/api"].token }}\n')
  await writeFile(join(dir, 'agent.json'), JSON.stringify({
    templates: [{ source: 'db.tpl', destination: 'db.conf' }, { source: 'api.tpl', destination: 'api.conf', mode: '0640' }],
    command: 'cat db.conf api.conf | tr "\\n" " " >> reloads; echo >> reloads'
  }))
  await commit([{ key: 'ag/db', op: 'put', value: { password: 'd1' } }, { key: 'ag/api', op: 'put', value: { token: 't1' } }])
  const agent = startCli(['agent', '--config', join(dir, 'agent.json'), '--splay', '200ms'], { socket })
  t.teardown(async () => { await agent.stop('SIGKILL') })
  await agent.waitFor(line => line.includes('api.conf') && line.includes('(start)'), 'stderr')
  t.equal(await readFile(join(dir, 'db.conf'), 'utf8'), 'db=d1\n')

  await commit([{ key: 'ag/db', op: 'put', value: { password: 'd2' } }, { key: 'ag/api', op: 'put', value: { token: 't2' } }])
  await agent.waitFor(line => line.includes('reload:'), 'stderr')
  await new Promise(resolve => setTimeout(resolve, 400))
  t.equal(await readFile(join(dir, 'reloads'), 'utf8'), 'db=d2 api=t2 \n', 'one reload, after both files were written')
  t.match(agent.stderr(), /reload: 2 file\(s\) switched, command exited 0/)
  t.equal(agent.stderr().split('\n').filter(l => l.includes('reload:')).length, 1)
  t.equal((await agent.stop('SIGTERM')).code, 0)
})

t.test('a configuration that does not match the schema is refused with exit 2, naming the field', async t => {
  const dir = t.testdir({ 'bad.json': JSON.stringify({ templates: [{ source: 'a.tpl' }] }), 'extra.json': JSON.stringify({ templates: [], comand: 'x' }) })
  const missing = await runCli(['agent', '--config', join(dir, 'bad.json'), '--once'], { socket })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /bad\.json: \/templates\/0: .*destination/)
  const extra = await runCli(['agent', '--config', join(dir, 'extra.json'), '--once'], { socket })
  t.equal(extra.code, 2)
  t.match(extra.stderr, /extra\.json/)
})
