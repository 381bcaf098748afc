import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { nkeys } from '@nats-io/nats-core'
import t from 'tap'
import { runDaemon, shortTempDir, startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { makeCertificates } from '../fixtures/tls.js'

const keyFile = await writeKeyFile()
const dir = await shortTempDir(t)
const certs = await makeCertificates(dir)

const connected = async (d: DaemonProcess): Promise<boolean> => (await d.request('GET', '/v1/status')).json.nats.connected === true
const secret = async (name: string, content: string | Uint8Array, mode = 0o600): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, content, { mode })
  await chmod(path, mode)
  return path
}

t.test('a nats-server that requires TLS and a client certificate: the daemon with --nats-tls-* writes and reads; without the CA it cannot connect and says why', async t => {
  const nats = await startNatsServer({ tls: { cert: certs.cert, key: certs.key, ca: certs.ca, verify: true } })
  t.teardown(() => nats.stop())
  const tls = ['--nats-tls-ca', certs.ca, '--nats-tls-cert', certs.clientCert, '--nats-tls-key', certs.clientKey]
  const daemon = await startDaemon({ nats: nats.url, keyFile, args: tls })
  t.teardown(() => daemon.stop())
  await eventually(() => connected(daemon), 'a TLS connection')
  t.equal((await daemon.request('PUT', '/v1/entities/tls/a', { body: { a: 1 } })).status, 201)
  t.match((await daemon.request('GET', '/v1/entities/tls/a')).json, { version: 1, value: { a: 1 } })

  const [noCa, noClientCert] = await Promise.all([
    startDaemon({ nats: nats.url, keyFile, args: ['--nats-tls-cert', certs.clientCert, '--nats-tls-key', certs.clientKey] }),
    startDaemon({ nats: nats.url, keyFile, args: ['--nats-tls-ca', certs.ca] })
  ])
  t.teardown(() => noCa.stop())
  t.teardown(() => noClientCert.stop())
  const warning = await noCa.waitForLog(l => l.level === 'warn' && /cannot connect to NATS/.test(String(l.msg)))
  t.match(JSON.stringify(warning), /certificate/i, 'the warning names the certificate problem')
  await noClientCert.waitForLog(l => l.level === 'warn' && /cannot connect to NATS/.test(String(l.msg)))
  for (const d of [noCa, noClientCert]) {
    t.notOk(await connected(d))
    t.equal((await d.request('PUT', '/v1/entities/tls/b', { body: { b: 1 } })).status, 503)
  }
})

t.test('an nkey user: --nats-nkey with the seed connects, another seed does not', async t => {
  const user = nkeys.createUser()
  const stranger = nkeys.createUser()
  const nats = await startNatsServer({ users: [{ nkey: user.getPublicKey() }] })
  t.teardown(() => nats.stop())
  const seedFile = await secret('user.nk', new TextDecoder().decode(user.getSeed()) + '\n')
  const daemon = await startDaemon({ nats: nats.url, keyFile, env: { CREDREG_NATS_NKEY: seedFile } })
  t.teardown(() => daemon.stop())
  await eventually(() => connected(daemon), 'a connection as the nkey user')
  t.equal((await daemon.request('PUT', '/v1/entities/nkey/a', { body: { a: 1 } })).status, 201)
  t.match((await daemon.request('GET', '/v1/entities/nkey/a')).json, { version: 1 })

  const wrong = await startDaemon({ nats: nats.url, keyFile, args: ['--nats-nkey', await secret('stranger.nk', stranger.getSeed())] })
  t.teardown(() => wrong.stop())
  await wrong.waitForLog(l => l.level === 'warn' && /authoriz/i.test(JSON.stringify(l)))
  t.notOk(await connected(wrong))
  const seed = new TextDecoder().decode(user.getSeed())
  t.notMatch(JSON.stringify(daemon.logs) + JSON.stringify(wrong.logs), seed.slice(2, 20), 'no seed in the logs')
})

t.test('a NATS seed or creds file that is not an owner-only regular file, or no seed, is refused at start', async t => {
  const seed = new TextDecoder().decode(nkeys.createUser().getSeed())
  const base = ['--nats', 'nats://127.0.0.1:1', '--key-file', keyFile]
  const cases: Array<[string, string[], RegExp]> = [
    ['seed mode 0644', ['--nats-nkey', await secret('open.nk', seed, 0o644)], /NATS nkey seed file .*open\.nk is accessible by group or others/],
    ['no seed', ['--nats-nkey', await secret('junk.nk', 'not a seed at all')], /does not hold a user nkey seed/],
    ['an account seed', ['--nats-nkey', await secret('account.nk', nkeys.createAccount().getSeed())], /does not hold a user nkey seed/],
    ['creds mode 0640', ['--nats-creds', await secret('open.creds', `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`, 0o640)], /NATS creds file .*open\.creds is accessible by group or others/],
    ['both', ['--nats-nkey', join(dir, 'a'), '--nats-creds', join(dir, 'b')], /--nats-creds and --nats-nkey exclude each other/]
  ]
  const runs = await Promise.all(cases.map(([name, args], i) => runDaemon(['--data-dir', join(dir, `refused-${i}`), ...base, ...args]).then(res => ({ name, res }))))
  runs.forEach(({ name, res }, i) => {
    t.equal(res.code, 2, `${name} exits 2`)
    t.match(res.stderr, cases[i]?.[2] ?? /./, name)
    t.notMatch(res.stderr + res.stdout, seed.slice(2, 20), `${name}: the seed is never quoted`)
  })
})
