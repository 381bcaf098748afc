import { readFile } from 'node:fs/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import t from 'tap'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

// The configuration of docs/nats-permissions.md, as it stands there.
const doc = await readFile(new URL('../../docs/nats-permissions.md', import.meta.url), 'utf8')
const authorization = /```conf\n([\s\S]*?)\n```/.exec(doc)?.[1]
if (authorization === undefined) throw new Error('docs/nats-permissions.md has no ```conf block')
const STREAM = 'CREDREG_prod'

const keyFile = await writeKeyFile()
const connected = async (d: DaemonProcess): Promise<boolean> => (await d.request('GET', '/v1/status')).json.nats.connected === true

t.test('daemons under the host user of docs/nats-permissions.md write, read and hear each other, but that user cannot delete or purge the stream, nor read other clients\' replies; the admin user can purge', async t => {
  const nats = await startNatsServer({ authorization })
  t.teardown(() => nats.stop())
  const asHost = { nats: nats.url, keyFile, args: ['--namespace', 'prod', '--nats-user', 'credreg-host', '--nats-inbox-prefix', '_INBOX_host'], env: { CREDREG_NATS_PASS: 'host-password' } }
  const a = await startDaemon(asHost)
  t.teardown(() => a.stop())
  await eventually(() => connected(a), 'the first daemon connected')
  t.equal((await a.request('PUT', '/v1/entities/perm/a', { body: { a: 1 } })).status, 201, 'a write (and the stream created)')
  t.equal((await a.request('PUT', '/v1/entities/perm/a', { body: { a: 2 }, headers: { 'if-match': '"1"' } })).status, 200, 'a conditional write')
  const b = await startDaemon(asHost)
  t.teardown(() => b.stop())
  await eventually(async () => (await b.request('GET', '/v1/entities/perm/a')).json?.version === 2, 'the second daemon to read both versions')
  t.match((await b.request('GET', '/v1/history/perm/a')).json, { versions: [{ version: 1 }, { version: 2 }] })
  await eventually(async () => (await a.request('GET', '/v1/nodes')).json.length === 2, 'heartbeats both ways')
  const rows = (await a.request('GET', '/v1/nodes?key=perm/a')).json as Array<{ nodeId: string, keyVersion?: number | null }>
  t.equal(rows.length, 2)
  t.match(rows.find(n => n.nodeId === b.nodeId), { keyVersion: 2 }, 'a key query answered by the peer')
  t.notMatch(nats.log(), /Violation/, 'nothing a daemon did was refused')

  const host = await connect({ servers: nats.url, user: 'credreg-host', pass: 'host-password', timeout: 2000, inboxPrefix: '_INBOX_host' })
  const admin = await connect({ servers: nats.url, user: 'credreg-admin', pass: 'admin-password', timeout: 2000 })
  t.teardown(async () => { await Promise.all([host.close(), admin.close()]) })
  const hostJsm = await jetstreamManager(host, { checkAPI: false, timeout: 2000 })
  const adminJsm = await jetstreamManager(admin, { checkAPI: false, timeout: 2000 })
  await t.rejects(hostJsm.streams.delete(STREAM), 'the host user cannot delete the stream')
  await t.rejects(hostJsm.streams.purge(STREAM), 'the host user cannot purge the stream')
  await t.rejects(hostJsm.streams.update(STREAM, { max_msgs_per_subject: 1 }), 'nor change its retention')
  await eventually(() => /Publish Violation.*STREAM\.PURGE\.CREDREG_prod/.test(nats.log()) || undefined, 'the purge refusal in the server log')
  t.match(nats.log(), /Publish Violation.*STREAM\.DELETE\.CREDREG_prod/, 'the server logged the refused delete')
  const kept = await adminJsm.streams.info(STREAM)
  t.ok(kept.state.messages >= 3, `the stream is intact (${kept.state.messages} records: identity and two versions)`)

  host.subscribe('_INBOX.>')
  await host.flush().catch(() => {})
  await eventually(() => /Subscription Violation.*_INBOX\.>/.test(nats.log()) || undefined, 'the host user refused other clients\' replies')

  const purged = await adminJsm.streams.purge(STREAM)
  t.ok(purged.success, 'the admin user can purge')
  t.equal((await adminJsm.streams.info(STREAM)).state.messages, 0)
})
