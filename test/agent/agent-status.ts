/**
 * lib/agent/agent-status.ts: the state a running agent reports, and its
 * unix-socket server (a stale socket replaced, the file removed on close).
 */
import { stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { AgentStatus, serveStatus } from '../../lib/agent/agent-status.js'
import { shortTempDir } from '../fixtures/daemon.js'

t.test('not ok until every template rendered; a failure is kept until a render succeeds', async t => {
  const status = new AgentStatus(['/a', '/b'])
  t.match(status.report(), { ok: false, seq: 0, templates: [{ destination: '/a' }, { destination: '/b' }] })
  status.taking(5, [])
  status.rendered('/a', 5, 3, true, [])
  status.failed('/b', 5, 'no key x')
  t.match(status.report(), { ok: false, seq: 5, templates: [{ lastRender: { seq: 5, bytes: 3 } }, { lastError: { seq: 5, message: 'no key x' } }] })
  t.notOk(status.report().pending, 'the first render is no pending change')
  status.taking(6, ['c6'])
  status.rendered('/a', 6, 3, false, ['c6'])
  status.rendered('/b', 6, 4, true, ['c6'])
  const report = status.report()
  t.equal(report.ok, true)
  t.notOk(report.templates[1]?.lastError)
  t.match(report.pending, { phase: 'rendering', correlationIds: ['c6'] })
})

t.test('a change is pending through splay and reload until done', async t => {
  const status = new AgentStatus(['/a'])
  status.phase('splay')
  t.notOk(status.report().pending, 'no phase without a change')
  status.taking(2, ['c2'])
  status.phase('splay')
  t.match(status.report().pending, { phase: 'splay' })
  status.phase('reloading')
  status.reloaded(0, 1, ['c2'])
  t.match(status.report(), { pending: { phase: 'reloading' }, lastReload: { code: 0, switched: 1, correlationIds: ['c2'] } })
  status.done()
  t.notOk(status.report().pending)
})

t.test('the server replaces a stale socket file, answers /healthz only, and removes its socket on close', async t => {
  const dir = await shortTempDir(t)
  const path = join(dir, 's.sock')
  await writeFile(path, 'stale')
  const status = new AgentStatus(['/a'])
  const server = await serveStatus(path, status)
  const get = async (url: string): Promise<{ code: number, body: string }> => await new Promise((resolve, reject) => {
    request({ socketPath: path, path: url }, res => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() }).on('end', () => resolve({ code: res.statusCode ?? 0, body }))
    }).on('error', reject).end()
  })
  t.equal((await get('/healthz')).code, 503)
  status.rendered('/a', 1, 1, true, [])
  const ok = await get('/healthz')
  t.equal(ok.code, 200)
  t.match(JSON.parse(ok.body), { ok: true })
  t.equal((await get('/other')).code, 404)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  await server.close()
  await t.rejects(stat(path), { code: 'ENOENT' })
})
