import { existsSync } from 'node:fs'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runDaemon, shortTempDir, startDaemon, writeKeyFile } from '../fixtures/daemon.js'
import { freePort } from '../fixtures/ports.js'

t.test('SIGTERM and SIGINT shut down gracefully: exit 0, socket removed', async t => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const daemon = await startDaemon()
    t.ok(existsSync(daemon.socket))
    t.equal(await daemon.stop(signal), 0, `${signal}: exit 0`)
    t.notOk(existsSync(daemon.socket), `${signal}: no socket left`)
    t.ok(await daemon.waitForLog(l => l.msg === 'stopped'))
  }
})

t.test('the socket has mode 0660 and a standalone key file is generated with mode 0600, then reused', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  t.equal((await stat(daemon.socket)).mode & 0o777, 0o660)
  const keyFile = join(daemon.dataDir, 'credregd.key')
  t.equal((await stat(keyFile)).mode & 0o777, 0o600)
  const key = await readFile(keyFile)
  t.equal(key.length, 32)
  await daemon.request('PUT', '/v1/entities/life/a', { body: { a: 1 } })
  await daemon.restart()
  t.same(await readFile(keyFile), key, 'the same key after a restart')
  t.same((await daemon.request('GET', '/v1/entities/life/a')).json.value, { a: 1 }, 'and the data is still readable')
})

t.test('a second daemon on a locked data dir exits non-zero with a clear message and harms nothing', async t => {
  const first = await startDaemon()
  t.teardown(() => first.stop())
  await first.request('PUT', '/v1/entities/life/locked', { body: { a: 1 } })
  const second = await runDaemon(['--data-dir', first.dataDir, '--socket', first.socket])
  t.not(second.code, 0)
  t.match(second.stderr, /data directory .* is in use by another credreg process/)
  t.ok(existsSync(first.socket), 'the first daemon keeps its socket')
  t.equal((await first.request('GET', '/v1/entities/life/locked')).status, 200, 'and keeps serving')
})

t.test('a socket left by a killed daemon is replaced; one still served is refused', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  await daemon.kill()
  t.ok(existsSync(daemon.socket), 'the killed daemon left its socket')
  await daemon.restart()
  t.equal((await daemon.request('GET', '/v1/status')).status, 200)

  const other = await shortTempDir(t)
  const busy = await runDaemon(['--data-dir', other, '--socket', daemon.socket])
  t.equal(busy.code, 2)
  t.match(busy.stderr, /another process is serving on/)
  const plain = join(other, 'not-a-socket')
  await writeFile(plain, 'x')
  const file = await runDaemon(['--data-dir', other, '--socket', plain])
  t.equal(file.code, 2)
  t.match(file.stderr, /is not a socket/)
  t.equal(await readFile(plain, 'utf8'), 'x', 'the file is left alone')
})

t.test('cluster mode refuses a missing, short or group-readable key file before touching NATS', async t => {
  const dir = await shortTempDir(t)
  // Nothing listens here; the key file is checked first anyway.
  const port = await freePort()
  const base = ['--data-dir', join(dir, 'data'), '--nats', `nats://127.0.0.1:${port}`]
  const short = join(dir, 'short.key')
  await writeFile(short, Buffer.alloc(31, 1), { mode: 0o600 })
  const open = await writeKeyFile()
  await chmod(open, 0o640)

  const [missing, wrongLength, readable] = await Promise.all([
    runDaemon([...base, '--key-file', join(dir, 'nope.key')]),
    runDaemon([...base, '--key-file', short]),
    runDaemon([...base, '--key-file', open])
  ])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /key file .*nope\.key cannot be read/)
  t.equal(wrongLength.code, 2)
  t.match(wrongLength.stderr, /holds 31 bytes/)
  t.equal(readable.code, 2)
  t.match(readable.stderr, /accessible by group or others.*chmod 600/)
  t.notOk(existsSync(join(dir, 'data', 'credregd.sock')), 'no socket was created')
})

t.test('--help lists every flag with its environment twin', async t => {
  const [res, bad] = await Promise.all([runDaemon(['--help']), runDaemon(['--no-such-flag'])])
  t.equal(res.code, 0)
  for (const flag of ['--data-dir', '--socket', '--nats', '--namespace', '--history', '--replicas', '--max-value-bytes', '--node-id', '--log-level', '--key-file', '--nats-creds', '--nats-nkey', '--nats-user', '--nats-pass', '--nats-token', '--nats-tls-ca', '--nats-tls-cert', '--nats-tls-key', '--listen', '--token-file', '--tls-cert', '--tls-key', '--allow-remote']) {
    t.match(res.stdout, flag)
    t.match(res.stdout, 'CREDREG_' + flag.slice(2).replaceAll('-', '_').toUpperCase())
  }
  t.equal(bad.code, 2)
  t.match(bad.stderr, /unknown option/)
})

t.test('the environment twins configure the daemon', async t => {
  const daemon = await startDaemon({ env: { CREDREG_NAMESPACE: 'from-env', CREDREG_NODE_ID: 'node-from-env' } })
  t.teardown(() => daemon.stop())
  t.match((await daemon.request('GET', '/v1/status')).json, { namespace: 'from-env', nodeId: 'node-from-env' })
})
