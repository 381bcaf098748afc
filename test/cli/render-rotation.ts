/**
 * `credreg render --test` against one real daemon: a staged rotation of a
 * template's key is rendered to FILE.pending and tested; the host acknowledges
 * failed with the test's output (the release is refused) or ok (the release
 * goes through and the file then holds the released values).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })

t.test('a failing test acknowledges failed with its output and the release is refused; a passing one acknowledges ok', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'db.tpl'), 'password={{ secret["rot/db"].password }}\n')
  await daemon.request('PUT', '/v1/entities/rot/db', { body: { password: 'good-1' } })
  const out = join(dir, 'db.conf')
  const test = 'grep -q good "$CREDREG_PENDING_FILE" || { echo "login refused for $(cat $CREDREG_PENDING_FILE)"; exit 1; }'
  const render = startCli(['render', join(dir, 'db.tpl'), '--out', out, '--test', test], { socket: daemon.socket })
  t.teardown(async () => { await render.stop('SIGKILL') })
  await render.waitFor(line => line.includes('(start)'), 'stderr')

  const bad = (await daemon.request('POST', '/v1/rotations', { body: { changes: [{ key: 'rot/db', op: 'put', value: { password: 'bad-2' } }] } })).json
  const failed = await eventually(async () => {
    const r = (await daemon.request('GET', `/v1/rotations/${bad.id as string}`)).json
    return r.hosts[0].ack !== 'silent' && r
  }, 'an acknowledgement')
  t.match(failed.hosts[0], { ack: 'failed', message: /login refused for password=bad-2/ })
  t.equal((await daemon.request('POST', `/v1/rotations/${bad.id as string}/release`, { body: {} })).status, 409, 'release refused')
  t.equal(await readFile(out, 'utf8'), 'password=good-1\n', 'the current file untouched')
  await daemon.request('POST', `/v1/rotations/${bad.id as string}/abort`, { body: { reason: 'test failed' } })

  const good = (await daemon.request('POST', '/v1/rotations', { body: { changes: [{ key: 'rot/db', op: 'put', value: { password: 'good-3' } }] } })).json
  await eventually(async () => (await daemon.request('GET', `/v1/rotations/${good.id as string}`)).json.hosts[0].ack === 'ok', 'ack ok')
  t.equal((await daemon.request('POST', `/v1/rotations/${good.id as string}/release`, { body: {} })).status, 200, 'released')
  await eventually(async () => await readFile(out, 'utf8') === 'password=good-3\n', 'the released value rendered')
  // The file is renamed into place before its log line is written: wait for the line too.
  const renders = (): number => render.stderr().split('\n').filter(l => /written.*change/.test(l)).length
  await eventually(async () => renders() > 0, 'the render\'s log line')
  t.equal(renders(), 1, 'one render after the release, none for the stages')
  t.equal((await render.stop('SIGTERM')).code, 0)
})
