import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { connect } from '../../lib/client/client.js'
import { runCli, runMain } from '../fixtures/cli.js'
import { runDaemon, shortTempDir, startDaemon } from '../fixtures/daemon.js'
import { makeCertificates } from '../fixtures/tls.js'

const dir = await shortTempDir(t)
const TOKEN = 'tls-token-0123456789abcdef0123456789'
const tokenFile = join(dir, 'token')
await writeFile(tokenFile, TOKEN, { mode: 0o600 })
const certs = await makeCertificates(dir)

const rejection = async (promise: Promise<unknown>): Promise<any> => await promise.then(() => undefined, (err: unknown) => err)

t.test('with --tls-cert and --tls-key the TCP listener serves HTTPS; a client trusting the CA gets through, others do not', async t => {
  const daemon = await startDaemon({ args: ['--listen', '127.0.0.1:0', '--token-file', tokenFile, '--tls-cert', certs.cert, '--tls-key', certs.key] })
  t.teardown(() => daemon.stop())
  const url = `https://127.0.0.1:${daemon.tcpPort ?? 0}`
  t.match(daemon.logs.find(l => l.msg === 'ready'), { tls: true })

  const trusting = connect({ url, token: TOKEN, ca: await readFile(certs.ca) })
  const system = connect({ url, token: TOKEN })
  const other = connect({ url, token: TOKEN, ca: await readFile(certs.otherCa) })
  t.teardown(async () => { await Promise.all([trusting.close(), system.close(), other.close()]) })
  t.match(await trusting.put('tls/a', { a: 1 }), { version: 1, created: true })
  t.match(await trusting.get('tls/a'), { version: 1, value: { a: 1 } })
  for (const [name, client] of [['without the CA', system], ['with another CA', other]] as const) {
    const err = await rejection(client.get('tls/a'))
    t.match(err, { code: 'INVALID_CONFIG', message: /certificate of credregd at https:\/\/127\.0\.0\.1:\d+ is not trusted.*--ca/ }, name)
  }

  const plain = await rejection(request(`http://127.0.0.1:${daemon.tcpPort ?? 0}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(async res => await res.body.text()))
  t.ok(plain instanceof Error, 'plain HTTP gets no answer from the HTTPS listener')

  const viaFlag = await runCli(['get', 'tls/a', '--url', url, '--token-file', tokenFile, '--ca', certs.ca, '--json'])
  t.equal(viaFlag.code, 0, viaFlag.stderr)
  t.match(JSON.parse(viaFlag.stdout), { key: 'tls/a', version: 1 })
  const viaEnv = await runMain(['get', 'tls/a', '--url', url, '--token-file', tokenFile], { env: { CREDREG_CA: certs.ca } })
  t.equal(viaEnv.code, 0, viaEnv.stderr)
  const untrusted = await runMain(['status', '--url', url, '--token-file', tokenFile])
  t.equal(untrusted.code, 2)
  t.match(untrusted.stderr, /is not trusted.*\(INVALID_CONFIG\)/)
  t.match((await runMain(['status', '--ca', certs.ca])), { code: 2, stderr: /--ca goes with --url/ })
})

t.test('a TLS key others can read, or a certificate and key that do not match, is refused at start', async t => {
  const openKey = join(dir, 'open.key')
  await writeFile(openKey, await readFile(certs.key), { mode: 0o644 })
  const base = ['--listen', '127.0.0.1:0', '--token-file', tokenFile]
  const [readable, mismatch, missing] = await Promise.all([
    runDaemon(['--data-dir', join(dir, 'd1'), ...base, '--tls-cert', certs.cert, '--tls-key', openKey]),
    runDaemon(['--data-dir', join(dir, 'd2'), ...base, '--tls-cert', certs.cert, '--tls-key', certs.clientKey]),
    runDaemon(['--data-dir', join(dir, 'd3'), ...base, '--tls-cert', join(dir, 'none.pem'), '--tls-key', certs.key])
  ])
  t.match(readable, { code: 2, stderr: /TLS key file .*open\.key is accessible by group or others/ })
  t.match(mismatch, { code: 2, stderr: /are not a usable certificate and key/ })
  t.notMatch(mismatch.stderr, /PRIVATE KEY/, 'the key is never quoted')
  t.match(missing, { code: 2, stderr: /--tls-cert .*none\.pem cannot be read/ })
})

t.test('a non-loopback --listen without TLS is refused before it binds, even with --allow-remote', async t => {
  const listens = ['0.0.0.0:0', '[::]:0']
  const runs = await Promise.all(listens.map(listen => runDaemon(['--data-dir', join(dir, 'remote'), '--listen', listen, '--token-file', tokenFile, '--allow-remote'])))
  runs.forEach((res, i) => {
    t.equal(res.code, 2, `${listens[i] ?? ''} exits 2`)
    t.match(res.stderr, /not a loopback address: serving other hosts needs TLS/)
    t.notMatch(res.stdout, /"msg":"ready"/)
  })
})
