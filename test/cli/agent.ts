/**
 * `credreg agent --config` against a real daemon: a changeset that touches
 * two templates switches both files and then runs the reload command once;
 * a bad configuration is refused with a clear message; `--status-socket`
 * reports each template's last render, the pending change and the last reload;
 * the templates of a `directory` switch together.
 */
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { runCli, startCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'

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

t.test('"directory": its templates switched in one step through ..data, the old timestamped directory gone, then one reload; a failed render switches none of them', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'db.tpl'), 'db={{ secret["dir/db"].password }}\n')
  await writeFile(join(dir, 'api.tpl'), 'api={{ secret["dir/api"].token }}\n')
  await writeFile(join(dir, 'other.tpl'), 'other={{ secret["dir/db"].password }}\n')
  await writeFile(join(dir, 'agent.json'), JSON.stringify({
    directory: 'secrets',
    templates: [{ source: 'db.tpl', destination: 'db' }, { source: 'api.tpl', destination: 'api', mode: '0640' }, { source: 'other.tpl', destination: './other.conf' }],
    command: 'cat secrets/db secrets/api | tr "\\n" " " >> reloads; echo >> reloads'
  }))
  await commit([{ key: 'dir/db', op: 'put', value: { password: 'd1' } }, { key: 'dir/api', op: 'put', value: { token: 't1' } }])
  const agent = startCli(['agent', '--config', join(dir, 'agent.json')], { socket })
  t.teardown(async () => { await agent.stop('SIGKILL') })
  await agent.waitFor(line => line.includes('other.conf') && line.includes('(start)'), 'stderr')
  const secrets = join(dir, 'secrets')
  t.equal((await stat(secrets)).mode & 0o777, 0o700, 'the directory 0700')
  t.equal(await readlink(join(secrets, 'db')), '..data/db')
  t.equal(await readFile(join(secrets, 'db'), 'utf8'), 'db=d1\n')
  t.equal((await stat(join(secrets, 'db'))).mode & 0o777, 0o600)
  t.equal((await stat(join(secrets, 'api'))).mode & 0o777, 0o640)
  t.equal(await readFile(join(dir, 'other.conf'), 'utf8'), 'other=d1\n', 'a path is a file of its own')
  const first = await readlink(join(secrets, '..data'))

  await commit([{ key: 'dir/db', op: 'put', value: { password: 'd2' } }, { key: 'dir/api', op: 'put', value: { token: 't2' } }])
  await agent.waitFor(line => line.includes('reload:'), 'stderr')
  t.equal(await readFile(join(dir, 'reloads'), 'utf8'), 'db=d2 api=t2 \n', 'one reload, after the switch')
  t.match(agent.stderr(), /secrets switched at seq \d+/)
  t.match(agent.stderr(), /reload: 3 file\(s\) switched/)
  const second = await readlink(join(secrets, '..data'))
  t.not(second, first)
  t.same((await readdir(secrets)).sort(), ['..data', second, 'api', 'db'].sort(), 'the old timestamped directory is gone')

  await commit([{ key: 'dir/db', op: 'put', value: { password: 'd3' } }, { key: 'dir/api', op: 'put', value: { nope: 1 } }])
  await agent.waitFor(line => line.includes('api kept'), 'stderr')
  await agent.waitFor(line => line.includes('other.conf written'), 'stderr')
  t.equal(await readlink(join(secrets, '..data')), second, 'nothing in the directory switched')
  t.equal(await readFile(join(secrets, 'db'), 'utf8'), 'db=d2\n', 'db keeps its bytes with api')
  t.match(agent.stderr(), /secrets\/db kept: .*secrets not switched: api failed/)
  t.equal((await agent.stop('SIGTERM')).code, 0)
})

t.test('a configuration that does not match the schema is refused with exit 2, naming the field', async t => {
  const none = await runCli(['agent', '--once'], { socket })
  t.equal(none.code, 2)
  t.match(none.stderr, /required option '--config <file>'/)
  const dir = t.testdir({ 'bad.json': JSON.stringify({ templates: [{ source: 'a.tpl' }] }), 'extra.json': JSON.stringify({ templates: [], comand: 'x' }) })
  const missing = await runCli(['agent', '--config', join(dir, 'bad.json'), '--once'], { socket })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /bad\.json: \/templates\/0: .*destination/)
  const extra = await runCli(['agent', '--config', join(dir, 'extra.json'), '--once'], { socket })
  t.equal(extra.code, 2)
  t.match(extra.stderr, /extra\.json/)
  await writeFile(join(dir, 'stage.json'), JSON.stringify({ templates: [{ source: 'a.tpl', destination: 'a', stage: 'pending' }] }))
  const untested = await runCli(['agent', '--config', join(dir, 'stage.json'), '--once'], { socket })
  t.equal(untested.code, 2)
  t.match(untested.stderr, /stage\.json: \/templates\/0\/stage: "pending" .*test, which is missing/)
  await writeFile(join(dir, 'other.json'), JSON.stringify({ templates: [{ source: 'a.tpl', destination: 'a', stage: 'current', test: 'true' }] }))
  const other = await runCli(['agent', '--config', join(dir, 'other.json'), '--once'], { socket })
  t.equal(other.code, 2)
  t.match(other.stderr, /other\.json: \/templates\/0\/stage/)
})

/** GET `path` on the unix socket `socket`: the status code and the parsed body. */
async function getJson (socket: string, path: string): Promise<{ status: number, json: any }> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET' }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) }))
    })
    req.on('error', reject).end()
  })
}

t.test('--status-socket: each template\'s last render and failure, the pending change while it reloads, then the last reload; the socket goes at exit', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'db.tpl'), 'db={{ secret["st/db"].password }}\n')
  await writeFile(join(dir, 'api.tpl'), 'api={{ secret["st/api"].token }}\n')
  await writeFile(join(dir, 'agent.json'), JSON.stringify({
    templates: [{ source: 'db.tpl', destination: 'db.conf' }, { source: 'api.tpl', destination: 'api.conf' }],
    command: 'sleep 1'
  }))
  await commit([{ key: 'st/db', op: 'put', value: { password: 'd1' } }])
  const statusSocket = join(dir, 'agent.sock')
  const agent = startCli(['agent', '--config', join(dir, 'agent.json'), '--status-socket', statusSocket], { socket })
  t.teardown(async () => { await agent.stop('SIGKILL') })
  await agent.waitFor(line => line.includes('api.conf kept'), 'stderr')
  t.equal((await stat(statusSocket)).mode & 0o777, 0o600, 'the socket is the user\'s alone')

  const first = await getJson(statusSocket, '/healthz')
  t.equal(first.status, 503, 'a template failed')
  t.match(first.json, {
    ok: false,
    templates: [
      { destination: join(dir, 'db.conf'), lastRender: { bytes: 6, changed: true, correlationIds: [] } },
      { destination: join(dir, 'api.conf'), lastError: { message: /no key st\/api/ } }
    ]
  })
  t.notOk(first.json.templates[1].lastRender, 'api.conf never rendered')
  t.notOk(first.json.pending)
  t.notOk(first.json.lastReload)
  t.notMatch(JSON.stringify(first.json), /d1/, 'no value of the register in the report')
  const failing = await runCli(['agent', 'status', '--status-socket', statusSocket])
  t.equal(failing.code, 1, 'credreg agent status exits 1 while a render fails')
  t.match(failing.stdout, /state\s+failing/)
  t.match(failing.stdout, /api\.conf\s+never.*no key st\/api/)
  t.match(failing.stdout, /db\.conf\s+\S+\s+\d+\s+6\s+start/)

  await commit([{ key: 'st/db', op: 'put', value: { password: 'd2' } }, { key: 'st/api', op: 'put', value: { token: 't2' } }])
  const during = await eventually(async () => {
    const got = await getJson(statusSocket, '/healthz')
    return got.json.pending?.phase === 'reloading' && got
  }, 'the change pending while the reload runs')
  t.equal(during.status, 200, 'both templates rendered')
  t.equal(during.json.pending.correlationIds.length, 1)
  const correlationId = during.json.pending.correlationIds[0] as string

  await agent.waitFor(line => line.includes('reload:'), 'stderr')
  const after = await getJson(statusSocket, '/healthz')
  t.match(after.json, {
    ok: true,
    templates: [
      { lastRender: { changed: true, bytes: 6, correlationIds: [correlationId] } },
      { lastRender: { changed: true, bytes: 7, correlationIds: [correlationId] } }
    ],
    lastReload: { code: 0, switched: 2, correlationIds: [correlationId] }
  })
  t.notOk(after.json.templates[1].lastError, 'the failure is cleared by a render that succeeded')
  t.notOk(after.json.pending, 'nothing pending')
  t.equal(after.json.seq, after.json.templates[0].lastRender.seq)
  t.equal((await getJson(statusSocket, '/nope')).status, 404)
  const healthy = await runCli(['--json', 'agent', 'status', '--status-socket', statusSocket])
  t.equal(healthy.code, 0)
  t.same(JSON.parse(healthy.stdout), (await getJson(statusSocket, '/healthz')).json, '--json prints the report')

  t.equal((await agent.stop('SIGTERM')).code, 0)
  await t.rejects(stat(statusSocket), { code: 'ENOENT' }, 'the socket is removed at exit')
  const gone = await runCli(['agent', 'status', '--status-socket', statusSocket])
  t.equal(gone.code, 5, 'no agent: unavailable')
  t.match(gone.stderr, /no agent answers at .*UNAVAILABLE/)
})
