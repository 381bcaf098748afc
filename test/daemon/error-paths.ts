import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { exitCodeFor, CredregError } from '../../lib/errors.js'
import { runDaemon, shortTempDir, startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const connected = async (d: DaemonProcess): Promise<boolean> => (await d.request('GET', '/v1/status')).json.nats.connected === true

t.test('a write whose publish NATS never acknowledges within --write-timeout-ms fails with an unknown outcome, and lands at most once', async t => {
  const nats = await startNatsServer()
  t.teardown(() => nats.stop())
  const daemon = await startDaemon({ nats: nats.url, keyFile: await writeKeyFile(), args: ['--write-timeout-ms', '300'] })
  t.teardown(() => daemon.stop())
  await eventually(() => connected(daemon), 'a NATS connection')
  t.equal((await daemon.request('PUT', '/v1/entities/slow/a', { body: { a: 1 } })).status, 201)
  await nats.pause()
  const answer = await daemon.request('PUT', '/v1/entities/slow/a', { body: { a: 2 } })
  nats.resume()
  t.equal(answer.status, 504, `refused as unknown, not as a definite failure: ${answer.status} ${JSON.stringify(answer.json)}`)
  t.match(answer.json, { code: 'TIMEOUT', key: 'slow/a', message: /may still have been appended/ }, 'the write did not complete within its bound: TIMEOUT')
  await eventually(async () => (await daemon.request('GET', '/v1/status')).json.lag === 0, 'the daemon caught up')
  const version = (await daemon.request('GET', '/v1/entities/slow/a')).json.version
  t.ok(version === 1 || version === 2, `the write landed at most once (version ${version})`)
})

t.test('two daemons on one --data-dir: the second exits with DATA_DIR_LOCKED and touches nothing', async t => {
  const dir = await shortTempDir(t)
  const first = await startDaemon({ dataDir: join(dir, 'data'), socket: join(dir, 'a.sock') })
  t.teardown(() => first.stop())
  t.equal((await first.request('PUT', '/v1/entities/lock/a', { body: { a: 1 } })).status, 201)
  const second = await runDaemon(['--data-dir', join(dir, 'data'), '--socket', join(dir, 'b.sock')])
  t.equal(second.code, exitCodeFor(new CredregError('DATA_DIR_LOCKED', '')), 'the exit code of DATA_DIR_LOCKED')
  t.match(second.stderr, /credregd: the data directory .*data is in use by another credreg process/)
  t.equal((await first.request('GET', '/v1/entities/lock/a')).json.version, 1, 'the first daemon still serves its replica')
})

t.test('a stored value sealed under a key the daemon no longer holds (the data key replaced under the replica) is answered 403 FORBIDDEN, naming the key id', async t => {
  const dir = await shortTempDir(t)
  const dataDir = join(dir, 'data')
  const first = await startDaemon({ dataDir, socket: join(dir, 'd.sock') })
  t.teardown(() => first.stop())
  t.equal((await first.request('PUT', '/v1/entities/sealed/a', { body: { a: 1 } })).status, 201)
  t.equal(await first.stop(), 0)
  // A standalone daemon creates its key as <data-dir>/credregd.key: another one cannot open what the first sealed.
  await writeFile(join(dataDir, 'credregd.key'), randomBytes(32), { mode: 0o600 })
  const daemon = await startDaemon({ dataDir, socket: join(dir, 'd.sock') })
  t.teardown(() => daemon.stop())
  const answer = await daemon.request('GET', '/v1/entities/sealed/a')
  t.match(answer, { status: 403, json: { code: 'FORBIDDEN', message: /sealed\/a: this host holds no key with id [0-9a-f]{16}$/ } }, JSON.stringify(answer.json))
})
