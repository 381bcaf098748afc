/**
 * Per-host identity and least privilege on three real daemons (a, b, c) on
 * one nats-server, one shared data key, driven by the real CLI: the README's
 * walkthrough (init, grant, a refused cross-prefix write, the audit trail),
 * records forged straight into NATS by a host holding the data key, a
 * revocation read in log order by a daemon that was down, a host without a
 * read scope's key, a key rotation end to end, and a forged policy.
 */
import { once } from 'node:events'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { Agent } from 'undici'
import t, { type Test } from 'tap'
import { v7 as uuidv7 } from 'uuid'
import { keyId } from '../../lib/authenticator.js'
import { POLICY_KEY, type Policy } from '../../lib/identity/policy.js'
import { SigningKey } from '../../lib/identity/signing-key.js'
import { readKeyFile } from '../../lib/key-file.js'
import { HOST_KEY_FILE } from '../../lib/node.js'
import { buildRecord } from '../../lib/records/record.js'
import { buildDecision } from '../../lib/records/rotation-record.js'
import { runCli, startCli, type CliResult } from '../fixtures/cli.js'
import { shortTempDir, startDaemon, writeKeyFile, type DaemonProcess, type DaemonOptions } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { policyRecord, publishKeyRecord, publishTransaction } from '../fixtures/policy.js'
import { recordKeys } from '../fixtures/record-keys.js'
import { openSse } from '../fixtures/sse-reader.js'

const NS = 'default'
const server = await startNatsServer()
t.teardown(async () => await server.stop())
const dir = await shortTempDir(t)
const dataKeyFile = await writeKeyFile()
const dataKey = await readKeyFile(dataKeyFile)
const adminKey = join(dir, 'admin.key')
const sharedKeyFile = join(dir, 'shared.key')

const nc: NatsConnection = await connect({ servers: server.url })
t.teardown(async () => await nc.close())

/** The daemons' options, kept: a restart reads `args` again, so a test may change a daemon's key files. */
const options: Record<'a' | 'b' | 'c', DaemonOptions> = {
  a: { nats: server.url, keyFile: dataKeyFile, args: ['--node-id', 'a', '--namespace', NS] },
  b: { nats: server.url, keyFile: dataKeyFile, args: ['--node-id', 'b', '--namespace', NS] },
  c: { nats: server.url, keyFile: dataKeyFile, args: ['--node-id', 'c', '--namespace', NS] }
}

async function cli (d: DaemonProcess, args: string[]): Promise<CliResult> {
  return await runCli(args, { socket: d.socket })
}

/** Runs the CLI on `d` and expects exit 0. */
async function ok (t: Test, d: DaemonProcess, args: string[]): Promise<string> {
  const r = await cli(d, args)
  t.equal(r.code, 0, `credreg ${args.join(' ')} on ${d.nodeId} exits 0 (stderr: ${r.stderr})`)
  return r.stdout
}

async function status (d: DaemonProcess): Promise<any> {
  return (await d.request('GET', '/v1/status')).json
}

/** Resolves once every daemon has applied everything the log holds, and the same. */
async function converged (...daemons: DaemonProcess[]): Promise<number> {
  return await eventually(async () => {
    const all = await Promise.all(daemons.map(status))
    const seq = all[0].logSeq
    return all.every(s => s.lag === 0 && s.appliedSeq === seq && s.logSeq === seq) ? seq as number : undefined
  }, 'the daemons to converge', 30_000)
}

/** Stops `d` (SIGTERM) without ending the fixture: `d.restart()` brings it back. */
async function down (d: DaemonProcess): Promise<void> {
  const exited = once(d.child, 'exit')
  d.child.kill('SIGTERM')
  await exited
}

const meta = (nodeId: string): { updatedAt: string, nodeId: string, correlationId: string } => ({ updatedAt: new Date().toISOString(), nodeId, correlationId: uuidv7() })

// The shared/ read scope's key: a holds it, b and c do not.
const made = await runCli(['admin', 'keygen', '--scope', 'shared/', '--out', sharedKeyFile])
if (made.code !== 0) throw new Error(`credreg admin keygen --scope: ${made.stderr}`)
options.a.args?.push('--scope-key-file', sharedKeyFile)
const [a, b, c] = await Promise.all([startDaemon(options.a), startDaemon(options.b), startDaemon(options.c)]) as [DaemonProcess, DaemonProcess, DaemonProcess]
t.teardown(async () => { await Promise.all([a.stop(), b.stop(), c.stop()]) })
const hostKey = { b: await SigningKey.fromFile(join(b.dataDir, HOST_KEY_FILE)) }

t.test('the README walkthrough: init on a, grant b its prefix, b refused beyond it, the audit names who did what', async t => {
  t.equal((await runCli(['admin', 'keygen', '--out', adminKey])).code, 0)
  t.match(await ok(t, a, ['admin', 'init', '--admin-key', adminKey]), 'policy version 1 is in force')
  const pubB = JSON.parse(await ok(t, b, ['whoami', '--json'])).publicKey
  const pubC = JSON.parse(await ok(t, c, ['whoami', '--json'])).publicKey
  t.equal(pubB, hostKey.b.publicKey, 'whoami prints the host key of the data directory')
  await ok(t, a, ['admin', 'grant', 'b', '--key', pubB, '--write', 'svc/b/', '--read', 'svc/b/', '--admin-key', adminKey])
  await ok(t, a, ['admin', 'grant', 'c', '--key', pubC, '--read', '*', '--admin-key', adminKey])
  await ok(t, a, ['admin', 'rotate-key', '--scope', 'shared/', '--kid', keyId(await readKeyFile(sharedKeyFile)), '--admin-key', adminKey])
  await converged(a, b, c)
  t.match(await ok(t, b, ['whoami']), /^grant\s+as b: write svc\/b\/; read svc\/b\/; rotations no$/m)

  const refused = await cli(b, ['put', 'svc/a/x', '{"pass":"stolen"}'])
  t.equal(refused.code, 7, 'b may not write svc/a/')
  t.match(refused.stderr, /policy version 4 does not let b write svc\/a\/x \(FORBIDDEN\)/)
  t.equal(await ok(t, b, ['put', 'svc/b/x', '{"pass":"b1"}']), 'svc/b/x version 1\n')
  t.equal(await ok(t, a, ['put', 'svc/a/x', '{"pass":"a1"}']), 'svc/a/x version 1\n')
  await converged(a, b, c)

  const audit = await ok(t, a, ['audit', 'svc/'])
  const short = (pub: string): string => `${pub.slice(0, 8)}…`
  t.match(audit, new RegExp(`put\\s+svc/b/x\\s+b \\(${short(pubB)}\\)\\s+applied`), 'b\'s write, by b\'s verified key')
  t.match(audit, new RegExp(`put\\s+svc/a/x\\s+a \\(${short((await status(a)).identity.publicKey)}\\)\\s+applied`))
  t.notMatch(audit, /stolen/)
  const admin = (await a.adminRequest('GET', '/v1/admin/policy')).json.policy.admin
  const policies = JSON.parse(await ok(t, a, ['audit', '_credreg/', '--json']))
  t.same(policies.map((e: any) => [e.op, e.nodeId, e.signer, e.outcome]), [1, 2, 3, 4].map(() => ['policy', 'admin', admin, 'applied']), 'four policy versions, each by the admin key')
})

t.test('b publishing straight to NATS with its host key and the data key: beyond its grant refused by every daemon, its own prefix lands', async t => {
  const before = await Promise.all([a, b, c].map(async d => (await status(d)).rejected.unauthorized ?? 0))
  const bKeys = recordKeys(dataKey, hostKey.b)
  await publishKeyRecord(nc, NS, 'svc/a/x', buildRecord({ ns: NS, key: 'svc/a/x', version: 2, meta: meta('b') }, 'put', Buffer.from('{"pass":"stolen"}'), bKeys))
  await publishKeyRecord(nc, NS, 'svc/a/x', buildRecord({ ns: NS, key: 'svc/a/x', version: 2, meta: meta('a') }, 'put', Buffer.from('{"pass":"stolen"}'), bKeys))
  await publishKeyRecord(nc, NS, 'svc/b/direct', buildRecord({ ns: NS, key: 'svc/b/direct', version: 1, meta: meta('b') }, 'put', Buffer.from('{"ok":true}'), bKeys))
  await converged(a, b, c)
  for (const [i, d] of [a, b, c].entries()) {
    t.equal((await status(d)).rejected.unauthorized, (before[i] as number) + 2, `${d.nodeId} refuses both forged writes`)
    t.same((await d.request('GET', '/v1/entities/svc/b/direct')).json.value, { ok: true }, `${d.nodeId}: b's own prefix lands`)
  }
  t.same((await a.request('GET', '/v1/entities/svc/a/x')).json.value, { pass: 'a1' }, 'a\'s value stands')
  t.same((await c.request('GET', '/v1/entities/svc/a/x')).json.value, { pass: 'a1' })
  t.match(await ok(t, a, ['audit', 'svc/a/']), /put\s+svc\/a\/x\s+b \(\S+\)\s+unauthorized/, 'the audit trail names the attempt, by b\'s key')
})

t.test('b acking a rotation in c\'s name is refused by every daemon', async t => {
  const staged = await a.request('POST', '/v1/rotations', { body: { changes: [{ key: 'svc/a/x', op: 'put', value: { pass: 'a2' } }], hosts: ['a', 'c'] } })
  t.equal(staged.status, 201, staged.text)
  await converged(a, b, c)
  const before = await Promise.all([a, b, c].map(async d => (await status(d)).rejected.unauthorized ?? 0))
  await publishTransaction(nc, NS, buildDecision(NS, uuidv7(), meta('c'), { op: 'ack', rotation: staged.json.id, ok: true }, recordKeys(dataKey, hostKey.b)))
  await converged(a, b, c)
  for (const [i, d] of [a, b, c].entries()) t.equal((await status(d)).rejected.unauthorized, (before[i] as number) + 1, `${d.nodeId} refuses it`)
  t.same((await c.request('GET', `/v1/rotations/${staged.json.id as string}`)).json.hosts.map((h: any) => [h.nodeId, h.ack]), [['a', 'silent'], ['c', 'silent']])
  t.equal((await a.request('POST', `/v1/rotations/${staged.json.id as string}/abort`, { body: {} })).status, 200)
})

t.test('a revocation counts from its place in the log: c, down during it and b\'s later write, refuses that write too once back', async t => {
  t.equal(await ok(t, b, ['put', 'svc/b/db', '{"pass":"b1"}']), 'svc/b/db version 1\n')
  await converged(a, b, c)
  await down(c)
  t.match(await ok(t, a, ['admin', 'revoke', 'b', '--admin-key', adminKey]), /revoked b/)
  const before = (await status(a)).rejected.unauthorized
  await publishKeyRecord(nc, NS, 'svc/b/db', buildRecord({ ns: NS, key: 'svc/b/db', version: 2, meta: meta('b') }, 'put', Buffer.from('{"pass":"after"}'), recordKeys(dataKey, hostKey.b)))
  await eventually(async () => (await status(a)).rejected.unauthorized === before + 1, 'a to refuse b\'s write after the revocation')
  const refused = await cli(b, ['put', 'svc/b/db', '{"pass":"again"}'])
  t.equal(refused.code, 7, 'b\'s own daemon knows it is revoked')
  t.match(refused.stderr, /does not grant this host/)
  await c.restart()
  await converged(a, b, c)
  const [sa, sc] = await Promise.all([status(a), status(c)])
  t.equal(sc.appliedSeq, sa.appliedSeq, 'the same applied sequence')
  const trail = async (d: DaemonProcess): Promise<unknown> => JSON.parse(await ok(t, d, ['audit', 'svc/b/db', '--json'])).map((e: any) => [e.seq, e.nodeId, e.signer, e.outcome])
  t.same(await trail(c), await trail(a), 'c refuses what a refused, at the same place')
  t.match(await trail(c), [[Number, 'b', hostKey.b.publicKey, 'applied'], [Number, 'b', hostKey.b.publicKey, 'unauthorized']])
  const history = async (d: DaemonProcess): Promise<unknown> => (await d.request('GET', '/v1/history/svc/b/db')).json.versions.map((v: any) => [v.version, v.seq, v.meta.signer])
  t.same(await history(c), await history(a), 'the same history')
  t.equal(((await history(a)) as unknown[]).length, 1, 'only what b wrote while granted')
})

t.test('c without the shared/ key converges, answers 403 for shared/ values, and its watchers see none of them', async t => {
  const watch = await openSse(new Agent({ connect: { socketPath: c.socket } }), '/v1/watch?prefix=shared/')
  t.teardown(() => watch.close())
  const cliWatch = startCli(['watch', 'shared/'], { socket: c.socket })
  t.teardown(async () => { await cliWatch.stop() })
  await ok(t, a, ['put', 'shared/x', '{"token":"s1"}'])
  await ok(t, a, ['put', 'shared/x', '{"token":"s2"}'])
  await ok(t, a, ['put', 'svc/a/seen', '{"n":1}'])
  await converged(a, c)
  const read = await c.request('GET', '/v1/entities/shared/x')
  t.equal(read.status, 403)
  t.equal(read.json.code, 'FORBIDDEN')
  t.match(read.json.message, /holds no key with id [0-9a-f]{16} of the read scope "shared\/"/)
  t.same((await a.request('GET', '/v1/entities/shared/x')).json.value, { token: 's2' }, 'a holds the key and reads it')
  const versions = await ok(t, c, ['versions', 'shared/x'])
  t.match(versions, /unreadable: sealed under key id [0-9a-f]{16}, which this host does not hold \(read scope "shared\/"\)/)
  const events = await watch.read(evs => evs.some(e => e.event !== 'ready' && e.event !== 'heartbeat'), 1000)
  t.same(events.filter(e => typeof e.data === 'object' && e.data !== null && String(e.data.key ?? '').startsWith('shared/')), [], 'no event for shared/ keys on the watch stream')
  t.equal(cliWatch.stdout(), '', 'nor through credreg watch')
})

t.test('key rotation end to end: a new shared/ key, reseal, retire; values open under the new key only, older versions show unreadable "retired", nothing lost', async t => {
  const newKeyFile = join(dir, 'shared-2.key')
  const out = await ok(t, a, ['admin', 'keygen', '--scope', 'shared/', '--out', newKeyFile])
  const oldKid = keyId(await readKeyFile(sharedKeyFile))
  const newKid = keyId(await readKeyFile(newKeyFile))
  t.match(out, `key id ${newKid}`)
  await ok(t, a, ['put', 'shared/y', '{"token":"y1"}'])
  const before = (await a.request('GET', '/v1/history/shared/x')).json.versions.length
  // Every host that reads shared/ (a) gets both keys, then the new one becomes current.
  options.a.args = [...(options.a.args ?? []).filter(x => x !== sharedKeyFile && x !== '--scope-key-file'), '--scope-key-file', `${sharedKeyFile},${newKeyFile}`]
  await a.restart()
  t.match(await ok(t, a, ['whoami']), new RegExp(`^key ids\\s+[0-9a-f]{16} ${oldKid} ${newKid}$`, 'm'))
  const rotated = await cli(a, ['admin', 'rotate-key', '--scope', 'shared/', '--kid', newKid, '--reseal', '--admin-key', adminKey])
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, `seals new values under key id ${newKid}; ${oldKid} still open older ones`)
  t.match(rotated.stdout, /resealed 2 values under key id [0-9a-f]{16}; 0 already current/)
  t.match(rotated.stderr, /resealing the live values under shared\//)
  t.match(await ok(t, a, ['admin', 'retire-key', oldKid, '--admin-key', adminKey]), `key id ${oldKid} of the scope shared/ is retired`)
  // a drops the old key file.
  options.a.args = [...options.a.args.filter(x => !x.includes(',') && x !== '--scope-key-file'), '--scope-key-file', newKeyFile]
  await a.restart()
  await converged(a, b, c)
  t.same((await a.request('GET', '/v1/entities/shared/x')).json.value, { token: 's2' }, 'the live value opens under the new key alone')
  t.same((await a.request('GET', '/v1/entities/shared/y')).json.value, { token: 'y1' })
  const history = (await a.request('GET', '/v1/history/shared/x')).json.versions
  t.equal(history.length, before + 1, 'nothing lost: every version kept, the reseal one more')
  t.ok(history.slice(0, -1).every((v: any) => v.unreadable === `sealed under key id ${oldKid}, retired`), 'older versions: unreadable, retired')
  t.equal(history.at(-1).unreadable, undefined)
  const versions = await ok(t, a, ['versions', 'shared/x'])
  t.match(versions, `unreadable: sealed under key id ${oldKid}, retired`)
  t.equal(await ok(t, a, ['put', 'shared/z', '{"token":"z1"}']), 'shared/z version 1\n', 'new values are sealed under the new key')
  const shown = await ok(t, a, ['admin', 'policy', 'show'])
  t.match(shown, new RegExp(`^shared/\\s+${newKid}\\s+-\\s+${oldKid}$`, 'm'))
})

t.test('a forged policy, signed by another key, is refused over the admin route and straight from NATS', async t => {
  const current = (await a.adminRequest('GET', '/v1/admin/policy')).json as { version: number, policy: Policy }
  const forger = SigningKey.generate()
  const widened: Policy = { ...current.policy, admin: forger.publicKey, hosts: current.policy.hosts.map(h => ({ ...h, write: [''], read: [''] })) }
  const record = policyRecord(NS, current.version + 1, widened, forger)
  const put = await c.adminRequest('PUT', '/v1/admin/policy', { body: { record } })
  t.equal(put.status, 403)
  t.match(put.json, { code: 'FORBIDDEN', message: /not by the admin key/ })
  const malformed = await c.adminRequest('PUT', '/v1/admin/policy', { body: { policy: widened } })
  t.equal(malformed.status, 400, 'the envelope is checked')
  const notNext = await a.adminRequest('PUT', '/v1/admin/policy', { body: { record: policyRecord(NS, current.version, current.policy, forger) } })
  t.equal(notNext.status, 412, 'not the next version')
  const before = await Promise.all([a, b, c].map(async d => (await status(d)).rejected.unauthorized ?? 0))
  await publishKeyRecord(nc, NS, POLICY_KEY, record)
  await converged(a, b, c)
  for (const [i, d] of [a, b, c].entries()) {
    t.equal((await status(d)).rejected.unauthorized, (before[i] as number) + 1, `${d.nodeId} refuses it`)
    t.equal((await status(d)).identity.policyVersion, current.version, `${d.nodeId} keeps policy version ${current.version}`)
  }
  const forgedByCli = await cli(a, ['admin', 'grant', 'c', '--read', '*', '--write', '*', '--admin-key', join(dir, 'forger.key')])
  t.equal(forgedByCli.code, 2, 'an admin key file that does not exist')
})
