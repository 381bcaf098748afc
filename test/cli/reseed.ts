/**
 * `credreg admin reseed` end to end: two daemons on one NATS server whose
 * JetStream store is lost; the CLI reseeds from one daemon, the other adopts
 * the new log by itself, and writes continue at the next version.
 */
import { rm } from 'node:fs/promises'
import t from 'tap'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { tempDir } from '../fixtures/nodes.js'

t.test('reseed restores the register from a daemon after the JetStream store is lost', async t => {
  const storeDir = await tempDir(t)
  const nats = await startNatsServer({ storeDir })
  t.teardown(async () => { await nats.stop() })
  const keyFile = await writeKeyFile()
  const [a, b] = await Promise.all([0, 1].map(async () => await startDaemon({ nats: nats.url, keyFile }))) as [DaemonProcess, DaemonProcess]
  t.teardown(async () => { await Promise.all([a.stop(), b.stop()]) })

  t.equal((await runCli(['put', 'app/db', '{"password":"one"}'], { socket: a.socket })).code, 0)
  t.equal((await runCli(['put', 'app/db', '{"password":"two"}'], { socket: b.socket })).stdout, 'app/db version 2\n')

  const healthy = await runCli(['admin', 'reseed'], { socket: a.socket })
  t.equal(healthy.code, 6, 'a daemon that follows its log refuses: exit 6')
  t.match(healthy.stderr, /nothing to reseed \(RESEED_REFUSED\)/)

  await nats.kill()
  await rm(storeDir, { recursive: true, force: true })
  await nats.restart()
  for (const d of [a, b]) {
    await eventually(async () => (await d.request('GET', '/v1/status')).json.diverged !== undefined, 'the daemon to refuse the empty server')
  }
  const refused = await runCli(['put', 'app/db', '{"password":"lost?"}'], { socket: a.socket })
  t.equal(refused.code, 5, 'writes are refused until the reseed')

  const reseed = await runCli(['admin', 'reseed', '--json'], { socket: a.socket })
  t.equal(reseed.code, 0, reseed.stderr)
  const result = JSON.parse(reseed.stdout)
  t.match(result, { keys: 1, versions: 2, identity: /^CREDREG_default@/, previous: /^CREDREG_default@/ })

  const human = await runCli(['status'], { socket: b.socket })
  t.equal(human.code, 0)
  await eventually(async () => {
    const s = (await b.request('GET', '/v1/status')).json
    return s.diverged === undefined && s.lag === 0
  }, 'the other daemon to adopt the reseeded log')
  const put = await eventually(async () => {
    const r = await runCli(['put', 'app/db', '{"password":"three"}', '--if-version', '2'], { socket: b.socket })
    return r.code === 5 ? undefined : r
  }, 'writes to resume')
  t.equal(put.stdout, 'app/db version 3\n', 'versions continue where they were')
  await eventually(async () => (await runCli(['get', 'app/db', '--field', 'password'], { socket: a.socket })).stdout === 'three\n', 'A to apply it')
  const versions = await runCli(['versions', 'app/db', '--json'], { socket: a.socket })
  t.same(JSON.parse(versions.stdout).map((v: { version: number }) => v.version), [1, 2, 3], 'history kept, nothing rolled back')
})
