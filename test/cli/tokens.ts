/**
 * `credreg admin token create|list|revoke` on the real CLI and daemon, and
 * the CLI's token file on the apps' socket (`--token-file`, `CREDREG_TOKEN_FILE`).
 */
import { existsSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runCli, runMain } from '../fixtures/cli.js'
import { shortTempDir, startDaemon } from '../fixtures/daemon.js'

t.test('create writes the token to a 0600 file and prints its scope only; the token then opens its scope and nothing else; revoke ends it', async t => {
  const dir = await shortTempDir(t)
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  const socket = daemon.socket
  t.equal((await runCli(['put', 'svc/a/db', '{"pass":"a"}'], { socket })).code, 0, 'no token yet: the socket asks for none')
  t.equal((await runCli(['put', 'svc/b/db', '{"pass":"b"}'], { socket })).code, 0)

  const out = join(dir, 'billing.token')
  const created = await runCli(['admin', 'token', 'create', '--name', 'billing', '--read', 'svc/a/,shared/', '--write', 'svc/a/', '--out', out], { socket })
  t.equal(created.code, 0, created.stderr)
  t.equal((await stat(out)).mode & 0o777, 0o600, 'the token file is 0600')
  const token = (await readFile(out, 'utf8')).trim()
  t.match(token, /^[A-Za-z0-9_-]{43}$/)
  t.notMatch(created.stdout + created.stderr, token, 'the token is never printed')
  t.match(created.stdout, /token +billing\nread +svc\/a\/,shared\/\nwrite +svc\/a\/\nrotations +no\n/)
  t.notMatch(await readFile(join(daemon.dataDir, 'tokens.json'), 'utf8'), token, 'the daemon keeps no plaintext token')

  const again = await runCli(['admin', 'token', 'create', '--name', 'second', '--read', 'x/', '--out', out], { socket })
  t.equal(again.code, 2, 'an existing file is refused')
  t.match(again.stderr, /already exists; refusing to overwrite it \(INVALID_CONFIG\)/)
  t.equal((await readFile(out, 'utf8')).trim(), token, 'and kept as it was')
  const taken = await runCli(['admin', 'token', 'create', '--name', 'billing', '--read', 'x/', '--out', join(dir, 'dup.token')], { socket })
  t.match(taken, { code: 2, stderr: /a token named billing exists already.*\(BAD_REQUEST\)/ })
  t.notOk(existsSync(join(dir, 'dup.token')), 'a refused token leaves no file')
  t.match(await runMain(['admin', 'token', 'create', '--name', 'x', '--read', 'a b', '--out', join(dir, 'x')], { socket }), { code: 2, stderr: /expected key prefixes separated by commas/ })

  const listed = await runCli(['admin', 'token', 'list', '--json'], { socket })
  t.match(JSON.parse(listed.stdout), [{ name: 'billing', read: ['svc/a/', 'shared/'], write: ['svc/a/'], rotations: false }])
  t.match((await runCli(['admin', 'token', 'list'], { socket })).stdout, /NAME +READ +WRITE +ROTATIONS +CREATED\nbilling +svc\/a\/,shared\/ +svc\/a\/ +no /)

  t.match(await runCli(['get', 'svc/a/db', '--field', 'pass'], { socket }), { code: 1, stderr: /requires Authorization: Bearer <token> \(UNAUTHORIZED\)/ }, 'with a token in place, the socket wants one')
  t.match(await runCli(['get', 'svc/a/db', '--field', 'pass', '--token-file', out], { socket }), { code: 0, stdout: 'a\n' })
  t.match(await runCli(['put', 'svc/a/db', '{"pass":"a2"}'], { socket, env: { CREDREG_TOKEN_FILE: out } }), { code: 0, stdout: 'svc/a/db version 2\n' }, 'CREDREG_TOKEN_FILE')
  t.match(await runCli(['get', 'svc/b/db', '--token-file', out], { socket }), { code: 7, stderr: /token billing: no read grant covers the key svc\/b\/db \(FORBIDDEN\)/ })
  t.match(await runCli(['put', 'svc/b/db', '{"pass":"x"}', '--token-file', out], { socket }), { code: 7, stderr: /no write grant covers the key svc\/b\/db/ })
  t.match(await runCli(['ls', 'svc/', '--token-file', out], { socket }), { code: 7 })
  t.match(await runCli(['ls', 'svc/a/', '--token-file', out], { socket }), { code: 0, stdout: /svc\/a\/db/ })

  t.equal((await runCli(['admin', 'token', 'create', '--name', 'keeper', '--read', 'k/', '--out', join(dir, 'keeper.token')], { socket })).code, 0)
  const revoked = await runCli(['admin', 'token', 'revoke', 'billing'], { socket })
  t.match(revoked, { code: 0, stdout: /revoked token billing/ })
  t.match(await runCli(['get', 'svc/a/db', '--token-file', out], { socket }), { code: 1, stderr: /the bearer token is not valid \(UNAUTHORIZED\)/ })
  t.match(await runCli(['admin', 'token', 'revoke', 'billing'], { socket }), { code: 4, stderr: /no token named "billing"/ })
  t.equal((await runCli(['admin', 'token', 'revoke', 'keeper'], { socket })).code, 0)
  t.match(await runCli(['admin', 'token', 'list'], { socket }), { code: 0, stderr: /no tokens/ })
  t.match(await runCli(['get', 'svc/b/db', '--field', 'pass'], { socket }), { code: 0, stdout: 'b\n' }, 'the last token revoked, the socket asks for none again')
})

t.test('the admin commands find the admin socket: --admin-socket, CREDREG_ADMIN_SOCKET, else beside the socket; never over --url or with a token', async t => {
  const daemon = await startDaemon({ adminSocket: null })
  t.teardown(() => daemon.stop())
  const admin = daemon.adminSocket
  t.match(await runCli(['admin', 'token', 'list', '--json'], { socket: daemon.socket }), { code: 5, stderr: /credregd-admin\.sock cannot be reached/ }, 'beside the socket: not there with a socket outside the data dir')
  t.match(await runCli(['admin', 'token', 'list', '--json', '--admin-socket', admin]), { code: 0, stdout: '[]\n' })
  t.match(await runCli(['admin', '--admin-socket', admin, 'token', 'list', '--json']), { code: 0, stdout: '[]\n' }, 'before the subcommand too')
  t.match(await runCli(['admin', 'token', 'list', '--json'], { env: { CREDREG_ADMIN_SOCKET: admin } }), { code: 0, stdout: '[]\n' })
  t.match(await runCli(['admin', 'reseed'], { env: { CREDREG_ADMIN_SOCKET: admin } }), { code: 6, stderr: /RESEED_REFUSED/ }, 'reseed goes to the admin socket')
  t.match(await runCli(['admin', 'reseed'], { socket: daemon.socket, env: { CREDREG_ADMIN_SOCKET: daemon.socket } }), { code: 4, stderr: /no route POST \/v1\/admin\/reseed/ }, 'the apps\' socket has no admin route')
  const tokenFile = join(await shortTempDir(t), 't')
  await writeFile(tokenFile, 'x'.repeat(40), { mode: 0o600 })
  t.match(await runMain(['admin', 'token', 'list', '--url', 'http://127.0.0.1:1', '--token-file', tokenFile]), { code: 2, stderr: /--url does not apply/ })
  t.match(await runMain(['admin', 'token', 'list', '--token-file', tokenFile, '--admin-socket', admin]), { code: 2, stderr: /the admin socket takes no token/ })
})
