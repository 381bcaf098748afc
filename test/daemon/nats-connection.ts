import t from 'tap'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { freePort } from '../fixtures/ports.js'

const keyFile = await writeKeyFile()

const connected = async (d: DaemonProcess): Promise<boolean> => (await d.request('GET', '/v1/status')).json.nats.connected === true

t.test('user/password auth against a nats-server that requires it', async t => {
  const nats = await startNatsServer({ user: 'credreg', pass: 'n4ts-pass' })
  t.teardown(() => nats.stop())

  const flags = await startDaemon({ nats: nats.url, keyFile, args: ['--nats-user', 'credreg', '--nats-pass', 'n4ts-pass'] })
  t.teardown(() => flags.stop())
  await eventually(() => connected(flags), 'a connection with --nats-user/--nats-pass')
  t.equal((await flags.request('PUT', '/v1/entities/auth/a', { body: { a: 1 } })).status, 201)

  const env = await startDaemon({ nats: nats.url, keyFile, env: { CREDREG_NATS_USER: 'credreg', CREDREG_NATS_PASS: 'n4ts-pass' } })
  t.teardown(() => env.stop())
  await eventually(() => connected(env), 'a connection with the environment twins')
  await eventually(async () => (await env.request('GET', '/v1/entities/auth/a')).status === 200, 'the first write on the second daemon')
  t.notOk(env.logs.some(l => JSON.stringify(l).includes('n4ts-pass')), 'the password is never logged')

  const wrong = await startDaemon({ nats: nats.url, keyFile, args: ['--nats-user', 'credreg', '--nats-pass', 'wrong'] })
  t.teardown(() => wrong.stop())
  t.equal((await wrong.request('GET', '/v1/entities/auth/a')).status, 404, 'a daemon that cannot authenticate still starts and serves its replica')
  t.ok(await wrong.waitForLog(l => l.level === 'warn' && /authoriz/i.test(JSON.stringify(l))), 'an authorization warning')
  t.notOk(await connected(wrong))
  const refused = await wrong.request('PUT', '/v1/entities/auth/b', { body: { b: 1 } })
  t.equal(refused.status, 503)
  t.equal(refused.json.code, 'UNAVAILABLE')
})

t.test('a daemon starts while NATS is unreachable, serves reads, refuses writes with 503, and connects once NATS is up', async t => {
  const port = await freePort()
  const daemon = await startDaemon({ nats: `nats://127.0.0.1:${port}`, keyFile })
  t.teardown(() => daemon.stop())
  const status = (await daemon.request('GET', '/v1/status')).json
  t.match(status, { mode: 'cluster', nats: { connected: false } })
  t.equal((await daemon.request('GET', '/v1/entities/down/a')).status, 404)
  const refused = await daemon.request('PUT', '/v1/entities/down/a', { body: { a: 1 } })
  t.equal(refused.status, 503)
  t.equal(refused.json.code, 'UNAVAILABLE')
  t.match((await daemon.request('GET', '/metrics')).text, /credreg_nats_connected 0/)
  t.match((await daemon.request('GET', '/metrics')).text, /credreg_writes_total\{op="put",result="unavailable"\} 1/)

  const nats = await startNatsServer({ port })
  t.teardown(() => nats.stop())
  await eventually(() => connected(daemon), 'the connection in the background')
  await eventually(async () => (await daemon.request('PUT', '/v1/entities/down/a', { body: { a: 1 } })).status === 201, 'a write')
  t.pass('the write went through once NATS was up')
})

t.test('SIGTERM lets a write in flight finish before the daemon exits', async t => {
  const nats = await startNatsServer()
  t.teardown(() => nats.stop())
  const daemon = await startDaemon({ nats: nats.url, keyFile })
  t.teardown(() => daemon.stop())
  await eventually(() => connected(daemon), 'a NATS connection')
  await nats.pause()
  const write = daemon.request('PUT', '/v1/entities/inflight/a', { body: { a: 1 } })
  // Nothing tells when the request is in: a moment for it to reach the daemon (if it did not, the test fails, it cannot pass wrongly).
  await new Promise(resolve => setTimeout(resolve, 200))
  const exited = daemon.stop()
  await daemon.waitForLog(l => l.msg === 'shutting down')
  nats.resume()
  const res = await write
  t.equal(res.status, 201, 'the write was answered')
  t.equal(await exited, 0, 'then the daemon exited cleanly')
})

t.test('credentials in a --nats URL authenticate and never show in a log line, the status or credreg status', async t => {
  const nats = await startNatsServer({ user: 'credreg', pass: 'n4ts-url-pass' })
  t.teardown(() => nats.stop())
  const withCredentials = `nats://credreg:n4ts-url-pass@127.0.0.1:${nats.port}`
  const daemon = await startDaemon({ nats: withCredentials, keyFile })
  t.teardown(() => daemon.stop())
  await eventually(() => connected(daemon), 'a connection with the URL\'s credentials')
  t.equal((await daemon.request('PUT', '/v1/entities/url/a', { body: { a: 1 } })).status, 201)
  const status = await daemon.request('GET', '/v1/status')
  const cli = await runCli(['status', '--json'], { socket: daemon.socket })
  t.equal(cli.code, 0, cli.stderr)
  t.match(daemon.logs.find(l => l.msg === 'configuration'), { config: { nats: [`nats://[redacted]@127.0.0.1:${nats.port}`] } }, 'the configuration line shows where, not how')

  const wrong = await startDaemon({ nats: `nats://credreg:wrong-url-pass@127.0.0.1:${nats.port}`, keyFile })
  t.teardown(() => wrong.stop())
  await wrong.waitForLog(l => l.level === 'warn' && /authoriz/i.test(JSON.stringify(l)))
  const everything = [JSON.stringify(daemon.logs), daemon.stderr(), status.text, cli.stdout, cli.stderr, JSON.stringify(wrong.logs), wrong.stderr()].join('\n')
  t.notMatch(everything, /n4ts-url-pass|wrong-url-pass/, 'no password anywhere')
})
