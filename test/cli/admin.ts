/**
 * The policy commands of the real CLI against a real standalone daemon:
 * admin keygen, init, grant, revoke, policy show, rotate-key, retire-key,
 * whoami and audit; bad input refused with exit 2 before anything changes.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { keyId } from '../../lib/authenticator.js'
import { readKeyFile } from '../../lib/key-file.js'
import { runCli, type CliResult } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

const daemon = await startDaemon()
t.teardown(async () => { await daemon.stop() })
const socket = daemon.socket
const dir = await shortTempDir(t)
const adminKey = join(dir, 'admin.key')

async function cli (args: string[]): Promise<CliResult> {
  return await runCli(args, { socket })
}

/** Runs the CLI and expects exit 0. */
async function ok (t: Test, args: string[]): Promise<string> {
  const r = await cli(args)
  t.equal(r.code, 0, `credreg ${args.join(' ')} exits 0 (stderr: ${r.stderr})`)
  return r.stdout
}

/** The policy version in force (0 in open mode). */
async function policyVersion (): Promise<number> {
  const res = await daemon.adminRequest('GET', '/v1/admin/policy')
  return res.status === 404 ? 0 : res.json.version
}

/** A public key made by `credreg admin keygen` (any Ed25519 key names a host). */
async function newPublicKey (t: Test, name: string): Promise<string> {
  return JSON.parse(await ok(t, ['admin', 'keygen', '--out', join(dir, name), '--json'])).publicKey
}

t.test('admin keygen writes an Ed25519 key with mode 0600, prints its public key, and never overwrites', async t => {
  const out = await ok(t, ['admin', 'keygen', '--out', adminKey])
  t.match(out, `wrote a new Ed25519 admin key to ${adminKey} (mode 0600)`)
  t.match(out, /^public key [A-Za-z0-9_-]{43}$/m)
  t.equal((await stat(adminKey)).mode & 0o777, 0o600)
  t.match(await readFile(adminKey, 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
  const before = await readFile(adminKey)
  const again = await cli(['admin', 'keygen', '--out', adminKey])
  t.equal(again.code, 2)
  t.match(again.stderr, /already exists; refusing to overwrite a key file \(INVALID_CONFIG\)/)
  t.same(await readFile(adminKey), before, 'the key file is untouched')
})

t.test('admin keygen --scope writes a data key and prints its key id and the next steps', async t => {
  const path = join(dir, 'shared.key')
  const out = await ok(t, ['admin', 'keygen', '--scope', 'shared/', '--out', path])
  const kid = keyId(await readKeyFile(path))
  t.match(out, `key id ${kid}`)
  t.match(out, `--scope-key-file ${path}`)
  t.match(out, `credreg admin rotate-key --scope shared/ --kid ${kid}`)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  const bad = await cli(['admin', 'keygen', '--scope', 'no spaces', '--out', join(dir, 'never.key')])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /invalid prefix "no spaces"/)
  await t.rejects(stat(join(dir, 'never.key')), 'no file made')
})

t.test('in open mode: whoami says so, audit names writers unverified, policy show says there is none', async t => {
  await ok(t, ['put', 'open/x', '{"a":1}'])
  const who = await ok(t, ['whoami'])
  t.match(who, new RegExp(`^node\\s+${daemon.nodeId}$`, 'm'))
  t.match(who, /^public key\s+[A-Za-z0-9_-]{43}$/m)
  t.match(who, /^key ids\s+[0-9a-f]{16}$/m)
  t.match(who, /^policy\s+open mode: no policy$/m)
  t.match(await ok(t, ['audit', 'open/']), new RegExp(`put\\s+open/x\\s+${daemon.nodeId} \\(unverified\\)\\s+applied`))
  t.match(await ok(t, ['admin', 'policy', 'show']), /^open mode: no policy/)
  t.match(await ok(t, ['status']), /^policy\s+none \(open mode\)$/m)
  t.match(await daemon.adminRequest('GET', '/v1/admin/policy'), { status: 404, json: { code: 'NOT_FOUND', message: /open mode/ } })
  t.match(await daemon.adminRequest('POST', '/v1/admin/reseal', { body: { prefix: '' } }), { status: 400, json: { code: 'BAD_REQUEST', message: /no policy is in force/ } })
  t.match(await daemon.adminRequest('POST', '/v1/admin/reseal', { body: { prefix: 'a b' } }), { status: 400, json: { code: 'INVALID_KEY' } })
  t.match(await daemon.adminRequest('PUT', '/v1/admin/policy', { body: { record: { v: 2 } } }), { status: 400, json: { code: 'BAD_REQUEST', message: /not a policy record/ } })
  t.match(await daemon.request('GET', '/v1/audit?limit=0'), { status: 400 })
  t.match(await daemon.request('GET', '/v1/audit?since=soon'), { status: 400, json: { message: /since must be an ISO-8601 time/ } })
  t.match(await daemon.request('GET', '/v1/audit?prefix=open/&limit=1'), { status: 200, json: { entries: [{ op: 'put', keys: ['open/x'], nodeId: daemon.nodeId, outcome: 'applied' }] } })
})

t.test('admin init grants the daemon\'s host everything under policy version 1; a second init exits 3', async t => {
  const status = (await daemon.request('GET', '/v1/status')).json
  const out = await ok(t, ['admin', 'init', '--admin-key', adminKey])
  t.match(out, 'policy version 1 is in force')
  t.match(out, `granted    ${daemon.nodeId} (${status.identity.publicKey}): write *, read *, rotations`)
  t.match(out, 'refused from now on')
  const policy = (await daemon.adminRequest('GET', '/v1/admin/policy')).json
  t.same(policy.policy.hosts, [{ name: daemon.nodeId, key: status.identity.publicKey, write: [''], read: [''], rotations: true }])
  t.same(policy.policy.scopes, [{ prefix: '', kids: [status.identity.keyIds[0]] }])
  const again = await cli(['admin', 'init', '--admin-key', adminKey])
  t.equal(again.code, 3)
  t.match(again.stderr, /a policy is in force already \(version 1\).*\(VERSION_CONFLICT\)/)
  t.equal(await policyVersion(), 1, 'nothing changed')
  const who = await ok(t, ['whoami'])
  t.match(who, /^policy\s+version 1$/m)
  t.match(who, new RegExp(`^grant\\s+as ${daemon.nodeId}: write \\*; read \\*; rotations yes$`, 'm'))
  t.match(await ok(t, ['status']), /^policy\s+version 1$/m)
})

t.test('bad grants exit 2 with a clear message and change nothing', async t => {
  const key = await newPublicKey(t, 'b.key')
  const version = await policyVersion()
  const cases: Array<[string[], RegExp]> = [
    [['admin', 'grant', 'b', '--key', 'short', '--admin-key', adminKey], /a public key is 43 base64url characters/],
    [['admin', 'grant', 'b c', '--key', key, '--admin-key', adminKey], /a host name is its node id/],
    [['admin', 'grant', 'b', '--key', key, '--write', 'svc/*', '--admin-key', adminKey], /invalid prefix "svc\/\*"/],
    [['admin', 'grant', 'b', '--key', key, '--read', 'a/,a/', '--admin-key', adminKey], /each prefix once/],
    [['admin', 'grant', 'b', '--key', key], /required option '--admin-key <file>'/],
    [['admin', 'grant', 'b', '--write', 'svc/b/', '--admin-key', adminKey], /b is not in the policy yet: give its public key with --key/],
    [['admin', 'grant', 'b', '--key', (await daemon.request('GET', '/v1/status')).json.identity.publicKey, '--admin-key', adminKey], /is granted to .* already: one key, one host/],
    [['admin', 'rotate-key', '--kid', 'XYZ', '--admin-key', adminKey], /a key id is 16 lowercase hex digits/],
    [['audit', '--since', 'yesterday'], /--since takes an ISO-8601 time/],
    [['audit', '--limit', '0'], /--limit must be at least 1/]
  ]
  for (const [args, message] of cases) {
    const r = await cli(args)
    t.equal(r.code, 2, `credreg ${args.join(' ')} exits 2`)
    t.match(r.stderr, message)
    t.match(r.stderr, /\((BAD_REQUEST|INVALID_KEY)\)\n$/)
  }
  const otherAdmin = join(dir, 'other-admin.key')
  await ok(t, ['admin', 'keygen', '--out', otherAdmin])
  const forged = await cli(['admin', 'grant', 'b', '--key', key, '--admin-key', otherAdmin])
  t.equal(forged.code, 7, 'another admin key: FORBIDDEN')
  t.match(forged.stderr, /is signed by the admin key .*; this admin key file holds .*\(FORBIDDEN\)/)
  t.equal(await policyVersion(), version, 'the policy never changed')
})

t.test('grant adds or replaces a host; revoke removes it; policy show lists hosts and scopes', async t => {
  const key = await newPublicKey(t, 'b2.key')
  const start = await policyVersion()
  t.match(await ok(t, ['admin', 'grant', 'b', '--key', key, '--write', 'svc/b/', '--read', 'svc/b/,shared/', '--admin-key', adminKey]),
    `policy version ${start + 1}: granted b (${key}) write svc/b/; read svc/b/,shared/; rotations no`)
  t.match(await ok(t, ['admin', 'grant', 'b', '--write', 'svc/b/,svc/c/', '--rotations', '--admin-key', adminKey]),
    `policy version ${start + 2}: replaced the grant of b (${key}) write svc/b/,svc/c/; read -; rotations yes`, 'the key is kept, the rest replaced')
  const shown = await ok(t, ['admin', 'policy', 'show'])
  t.match(shown, new RegExp(`^version\\s+${start + 2}$`, 'm'))
  t.match(shown, /^HOST\s+KEY\s+WRITE\s+READ\s+ROTATIONS$/m)
  t.match(shown, new RegExp(`^b\\s+${key}\\s+svc/b/,svc/c/\\s+-\\s+yes$`, 'm'))
  t.match(shown, /^SCOPE\s+CURRENT KEY ID\s+OLDER KEY IDS\s+RETIRED$/m)
  t.match(shown, /^\*\s+[0-9a-f]{16}\s+-\s+-$/m)
  const json = JSON.parse(await ok(t, ['admin', 'policy', 'show', '--json']))
  t.match(json, { version: start + 2, policy: { hosts: [{ name: daemon.nodeId }, { name: 'b', key, write: ['svc/b/', 'svc/c/'], read: [], rotations: true }] } })

  t.match(await ok(t, ['admin', 'revoke', 'b', '--admin-key', adminKey]), `policy version ${start + 3}: revoked b (${key})`)
  const gone = await cli(['admin', 'revoke', 'b', '--admin-key', adminKey])
  t.equal(gone.code, 4)
  t.match(gone.stderr, /b is not in the policy .*\(NOT_FOUND\)/)
  t.equal(await policyVersion(), start + 3)
})

t.test('two admins changing the policy at once both land: the later change is applied again to the earlier version', async t => {
  const [x, y] = [await newPublicKey(t, 'x.key'), await newPublicKey(t, 'y.key')]
  const start = await policyVersion()
  const [gx, gy] = await Promise.all([
    cli(['admin', 'grant', 'x', '--key', x, '--read', 'x/', '--admin-key', adminKey]),
    cli(['admin', 'grant', 'y', '--key', y, '--read', 'y/', '--admin-key', adminKey])
  ])
  t.equal(gx.code, 0, gx.stderr)
  t.equal(gy.code, 0, gy.stderr)
  const { version, policy } = (await daemon.adminRequest('GET', '/v1/admin/policy')).json
  t.equal(version, start + 2)
  t.same(policy.hosts.map((h: any) => h.name).slice(1).sort(), ['x', 'y'], 'neither change lost')
  t.match(policy.hosts.find((h: any) => h.name === 'x'), { key: x, read: ['x/'] })
  t.match(policy.hosts.find((h: any) => h.name === 'y'), { key: y, read: ['y/'] })
  await ok(t, ['admin', 'revoke', 'x', '--admin-key', adminKey])
  await ok(t, ['admin', 'revoke', 'y', '--admin-key', adminKey])
})

t.test('rotate-key makes a key current and keeps the older ones; retire-key refuses the current one', async t => {
  const path = join(dir, 'svc.key')
  const kid = keyId((await ok(t, ['admin', 'keygen', '--scope', 'svc/', '--out', path]), await readKeyFile(path)))
  const namespaceKid = (await daemon.request('GET', '/v1/status')).json.identity.keyIds[0]
  t.match(await ok(t, ['admin', 'rotate-key', '--scope', 'svc/', '--kid', kid, '--admin-key', adminKey]), `the scope svc/ seals new values under key id ${kid}`)
  t.match((await daemon.adminRequest('GET', '/v1/admin/policy')).json.policy.scopes, [{ prefix: '' }, { prefix: 'svc/', kids: [kid] }], 'the scope is created')
  t.match(await ok(t, ['admin', 'rotate-key', '--scope', 'svc/', '--kid', namespaceKid, '--admin-key', adminKey]), `under key id ${namespaceKid}; ${kid} still open older ones`)
  const current = await cli(['admin', 'retire-key', namespaceKid, '--admin-key', adminKey])
  t.equal(current.code, 2)
  t.match(current.stderr, /is the current key of the scope \*: rotate to a new one first/)
  const unknown = await cli(['admin', 'retire-key', 'ffffffffffffffff', '--admin-key', adminKey])
  t.equal(unknown.code, 4)
  t.match(await ok(t, ['admin', 'retire-key', kid, '--admin-key', adminKey]), `key id ${kid} of the scope svc/ is retired`)
  t.match(await ok(t, ['admin', 'policy', 'show']), new RegExp(`^svc/\\s+${namespaceKid}\\s+-\\s+${kid}$`, 'm'))
  const twice = await cli(['admin', 'retire-key', kid, '--admin-key', adminKey])
  t.equal(twice.code, 2)
  t.match(twice.stderr, /is retired already/)
})

t.test('audit lists who did what with the verified signer, page after page; versions shows the signer', async t => {
  const status = (await daemon.request('GET', '/v1/status')).json
  const short = `${status.identity.publicKey.slice(0, 8)}…`
  await ok(t, ['put', 'aud/x', '{"a":1}'])
  await ok(t, ['put', 'aud/x', '{"a":2}'])
  const lines = (await ok(t, ['audit'])).trimEnd().split('\n')
  t.match(lines[0], /^SEQ\s+AT\s+OP\s+KEYS\s+WHO\s+OUTCOME\s+CORRELATION$/)
  const policyAdmin = (await daemon.adminRequest('GET', '/v1/admin/policy')).json.policy.admin as string
  t.ok(lines.some(l => new RegExp(`\\spolicy\\s+_credreg/policy\\s+admin \\(${policyAdmin.slice(0, 8)}…\\)\\s+applied\\s`).test(l)), 'policy versions by the admin key')
  t.match(lines.at(-1), new RegExp(`^\\d+\\s+\\S+\\s+put\\s+aud/x\\s+${daemon.nodeId} \\(${short}\\)\\s+applied\\s+[0-9a-f-]{36}$`))
  const json = JSON.parse(await ok(t, ['audit', 'aud/', '--json']))
  t.match(json, [{ op: 'put', keys: ['aud/x'], nodeId: daemon.nodeId, signer: status.identity.publicKey, outcome: 'applied' }, { op: 'put' }])
  t.equal(JSON.parse(await ok(t, ['audit', '--limit', '1', '--json'])).length, 1)
  t.same(JSON.parse(await ok(t, ['audit', '--since', '2999-01-01T00:00:00Z', '--json'])), [])
  const versions = (await ok(t, ['versions', 'aud/x'])).trimEnd().split('\n')
  t.match(versions[1], new RegExp(`^1\\s+\\d+\\s+put\\s+\\S+\\s+${daemon.nodeId}\\s+${short}\\s`))
})
