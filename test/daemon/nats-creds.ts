import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { shortTempDir, startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { createAccount, createOperator, createOperatorSetup, createUser, credsFile, decodeJwt, type User } from '../fixtures/nats-jwt.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const keyFile = await writeKeyFile()
const dir = await shortTempDir(t)
const setup = createOperatorSetup()
const nats = await startNatsServer({ operator: setup.config })
t.teardown(() => nats.stop())

const connected = async (d: DaemonProcess): Promise<boolean> => (await d.request('GET', '/v1/status')).json.nats.connected === true
const creds = async (user: User): Promise<string> => {
  const path = join(dir, `${user.publicKey}.creds`)
  await writeFile(path, credsFile(user), { mode: 0o600 })
  await chmod(path, 0o600)
  return path
}
const seedOf = (user: User): string => new TextDecoder().decode(user.pair.getSeed())
const daemonWith = async (t: Test, user: User): Promise<DaemonProcess> => {
  const daemon = await startDaemon({ nats: nats.url, keyFile, args: ['--nats-creds', await creds(user)] })
  t.teardown(() => daemon.stop())
  return daemon
}

t.test('the JWTs chain operator → account → user', async t => {
  const user = createUser(setup.account, 'chain')
  t.match(decodeJwt(setup.operator.jwt), { iss: setup.operator.publicKey, sub: setup.operator.publicKey, nats: { type: 'operator', version: 2 } })
  t.match(decodeJwt(setup.account.jwt), { iss: setup.operator.publicKey, sub: setup.account.publicKey, nats: { type: 'account', limits: { streams: -1, disk_storage: -1 } } })
  t.match(decodeJwt(user.jwt), { iss: setup.account.publicKey, sub: user.publicKey, jti: /^[A-Z2-7]{52}$/, nats: { type: 'user', version: 2 } })
})

t.test('a valid creds file: the daemon connects, writes and reads; a second daemon with its own user of the same account sees the write', async t => {
  const [first, second] = await Promise.all([
    daemonWith(t, createUser(setup.account, 'credregd-1')),
    daemonWith(t, createUser(setup.account, 'credregd-2'))
  ])
  await eventually(() => connected(first), 'a connection with the first creds file')
  t.equal((await first.request('PUT', '/v1/entities/creds/a', { body: { a: 1 } })).status, 201)
  t.match((await first.request('GET', '/v1/entities/creds/a')).json, { version: 1, value: { a: 1 } })
  await eventually(() => connected(second), 'a connection with the second creds file')
  const seen = await eventually(async () => {
    const res = await second.request('GET', '/v1/entities/creds/a')
    return res.status === 200 && res.json
  }, 'the write on the second daemon')
  t.match(seen, { version: 1, value: { a: 1 } }, 'the second daemon replicated the write')
})

t.test('a user of an untrusted operator, or with an expired JWT: the daemon cannot connect, says why, and refuses writes with 503', async t => {
  const strangerOperator = createOperator('stranger')
  const stranger = createUser(createAccount(strangerOperator, 'stranger'), 'stranger')
  const expired = createUser(setup.account, 'expired', { expires: Math.floor(Date.now() / 1000) - 60 })
  const cases: Array<[string, User]> = [['a user of an untrusted operator', stranger], ['an expired user JWT', expired]]
  const daemons = await Promise.all(cases.map(async ([name, user]) => ({ name, user, daemon: await daemonWith(t, user) })))
  for (const { name, user, daemon } of daemons) {
    const warning = await daemon.waitForLog(l => l.level === 'warn' && /cannot connect to NATS/.test(String(l.msg)))
    t.match(JSON.stringify(warning), /authorization violation/i, `${name}: the warning names the authorization failure`)
    t.match((await daemon.request('GET', '/v1/status')).json, { nats: { connected: false } }, `${name}: not connected`)
    const refused = await daemon.request('PUT', '/v1/entities/creds/refused', { body: { b: 1 } })
    t.equal(refused.status, 503, `${name}: a write answers 503`)
    t.equal(refused.json.code, 'UNAVAILABLE')
    t.notMatch(JSON.stringify(daemon.logs) + daemon.stderr(), seedOf(user).slice(2, 20), `${name}: the seed is never logged`)
  }
  t.match(nats.log(), /authentication error/, 'the server refused them')
})
