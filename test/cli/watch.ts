/**
 * `credreg watch` against a real daemon: NDJSON events for writes made by
 * other CLI processes, a resume across a daemon restart, `--since`, and a
 * clean exit on SIGINT.
 */
import t from 'tap'
import { ndjson, runCli, startCli } from '../fixtures/cli.js'
import { startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket

async function write (args: string[]): Promise<void> {
  const r = await runCli(args, { socket })
  if (r.code !== 0) throw new Error(`credreg ${args.join(' ')}: ${r.stderr}`)
}

t.test('watch prints one JSON change per line for writes by other CLI processes, across a daemon restart, until SIGINT', async t => {
  const watch = startCli(['watch', 'w/'], { socket })
  t.teardown(async () => { await watch.stop('SIGKILL') })
  await watch.waitFor(line => line.includes('watching keys under "w/"'), 'stderr')

  await write(['put', 'w/db', '{"password":"one"}'])
  await daemon.request('PUT', '/v1/entities/other/db', { body: { password: 'not watched' } })
  await write(['patch', 'w/db', '[{"op":"replace","path":"/password","value":"two"}]'])
  await write(['delete', 'w/db'])
  await watch.waitFor(line => line.includes('"op":"delete"'))

  await daemon.restart()
  await write(['put', 'w/db', '{"password":"after restart"}'])
  await watch.waitFor(line => line.includes('after restart'))

  const { code, stdout } = await watch.stop('SIGINT')
  t.equal(code, 0, 'SIGINT ends it with exit 0')
  const events = ndjson(stdout)
  t.match(events, [
    { key: 'w/db', version: 1, prevVersion: 0, op: 'put', value: { password: 'one' }, seq: Number, meta: { op: 'put' } },
    { key: 'w/db', version: 2, prevVersion: 1, op: 'patch', value: { password: 'two' }, patch: [{ op: 'replace', path: '/password', value: 'two' }] },
    { key: 'w/db', version: 3, prevVersion: 2, op: 'delete' },
    { key: 'w/db', version: 4, prevVersion: 3, op: 'put', value: { password: 'after restart' } }
  ])
  t.equal(events.length, 4, 'only keys under the prefix, each change once')
  t.same(events.map(e => e.seq), [...events.map(e => e.seq)].sort((a, b) => a - b), 'in log order')
})

t.test('watch --since replays the changes after a sequence first; SIGTERM ends it too', async t => {
  const seq = (await daemon.request('GET', '/v1/status')).json.appliedSeq as number
  for (const n of [1, 2]) await daemon.request('PUT', '/v1/entities/since/a', { body: { n } })
  const watch = startCli(['watch', 'since/', '--since', String(seq), '--json'], { socket })
  t.teardown(async () => { await watch.stop('SIGKILL') })
  await watch.waitFor(line => line.includes('"n":2'))
  const { code, stdout, stderr } = await watch.stop('SIGTERM')
  t.equal(code, 0)
  t.equal(stderr, '', '--json: no remarks on stderr')
  t.match(ndjson(stdout), [{ key: 'since/a', version: 1, value: { n: 1 } }, { key: 'since/a', version: 2, value: { n: 2 } }])
})
