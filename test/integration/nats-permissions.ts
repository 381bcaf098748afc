import { readFile } from 'node:fs/promises'
import { jetstreamManager, StorageType } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import t, { type Test } from 'tap'
import { readKeyFile } from '../../lib/key-file.js'
import type { CredregNode, Logger } from '../../lib/types.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { testNode } from '../fixtures/nodes.js'

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
  await eventually(async () => (await a.request('GET', '/v1/nodes')).json.length === 2, 'membership records both ways')
  // The peer's row is as of its last membership record, an interval old at most.
  const rows = await eventually(async () => {
    const r = (await a.request('GET', '/v1/nodes?key=perm/a')).json as Array<{ nodeId: string, keyVersion?: number | null }>
    return r.find(n => n.nodeId === b.nodeId)?.keyVersion === 2 ? r : undefined
  }, 'the peer to hold version 2, told from its applied sequence')
  t.equal(rows.length, 2)
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

/** A node of namespace `prod` as `user` (the host user replies under its own inbox prefix), with the daemons' data key. */
async function prodNode (t: Test, url: string, user: 'credreg-host' | 'credreg-admin', logger?: Logger): Promise<CredregNode> {
  const nats = user === 'credreg-host'
    ? { servers: url, user, pass: 'host-password', inboxPrefix: '_INBOX_host' }
    : { servers: url, user, pass: 'admin-password' }
  return await testNode(t, { dataKey: await readKeyFile(keyFile), namespace: 'prod', nats, writeTimeoutMs: 5_000, ...(logger !== undefined ? { logger } : {}) })
}

t.test('a node under the host user commits a changeset, which the daemons under the same user apply', async t => {
  const nats = await startNatsServer({ authorization })
  t.teardown(() => nats.stop())
  const d = await startDaemon({ nats: nats.url, keyFile, args: ['--namespace', 'prod', '--nats-user', 'credreg-host', '--nats-inbox-prefix', '_INBOX_host'], env: { CREDREG_NATS_PASS: 'host-password' } })
  t.teardown(() => d.stop())
  await eventually(() => connected(d), 'the daemon connected')
  const node = await prodNode(t, nats.url, 'credreg-host')
  await node.put('perm/a', { a: 1 })
  const result = await node.commit([{ key: 'perm/a', op: 'merge', patch: { a: 2 }, ifVersion: 1 }, { key: 'perm/b', op: 'put', value: { b: 1 } }])
  t.same(result.results.map(r => [r.key, r.version]), [['perm/a', 2], ['perm/b', 1]])
  await eventually(async () => (await d.request('GET', '/v1/entities/perm/b')).json?.version === 1, 'the daemon to apply the changeset')
  t.match((await d.request('GET', '/v1/history/perm/a')).json, { versions: [{ version: 1 }, { version: 2, changeset: { id: result.id, index: 0, size: 2 } }] })
  t.notMatch(nats.log(), /Violation/, 'nothing the node or the daemon did was refused')
})

t.test('a stream an earlier release created, without the changeset subject: a host user\'s changesets fail saying so; a node with the right to update the stream adds the subject', async t => {
  const nats = await startNatsServer({ authorization })
  t.teardown(() => nats.stop())
  const admin = await connect({ servers: nats.url, user: 'credreg-admin', pass: 'admin-password', timeout: 2000 })
  t.teardown(async () => { await admin.close() })
  const jsm = await jetstreamManager(admin, { checkAPI: false, timeout: 2000 })
  await jsm.streams.add({ name: STREAM, subjects: ['credreg.prod.e.>', 'credreg.prod.identity'], max_msgs_per_subject: 10, storage: StorageType.File })

  const warnings: string[] = []
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (_obj, msg) => { warnings.push(msg ?? '') }, error: () => {} }
  const host = await prodNode(t, nats.url, 'credreg-host', logger)
  t.match(await host.put('perm/a', { a: 1 }), { version: 1 }, 'single writes work on the old stream')
  await eventually(() => warnings.some(w => /changeset subject/.test(w)), 'the node to warn that it could not add the changeset subject')
  // The follower asks for the stream's info every second (lag in status): it must not try the update, and warn, every time.
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const updates = nats.log().match(/Publish Violation.*STREAM\.UPDATE\.CREDREG_prod/g) ?? []
  t.ok(updates.length <= 1, `the node tried to update the stream ${updates.length} times in 3 s`)
  t.equal(warnings.filter(w => /changeset subject/.test(w)).length, 1, 'and warned once')
  const started = Date.now()
  const err = await host.commit([{ key: 'perm/a', op: 'merge', patch: { a: 2 } }, { key: 'perm/b', op: 'put', value: { b: 1 } }]).catch((e: unknown) => e)
  t.ok(Date.now() - started < 2_500, `it fails at once, not at the end of the write's 5 s (${Date.now() - started} ms): trying again changes nothing`)
  t.match(err, { code: 'UNAVAILABLE', message: /stream CREDREG_prod .*credreg\.prod\.tx\.>.*nats stream edit CREDREG_prod/s }, 'the commit fails saying the stream lacks the changeset subject, and how to add it')
  t.equal((await host.get('perm/a')).version, 1, 'nothing was written')
  t.notOk((await jsm.streams.info(STREAM)).config.subjects?.includes('credreg.prod.tx.>'), 'the host user could not change the stream')

  const full = await prodNode(t, nats.url, 'credreg-admin')
  await eventually(async () => (await jsm.streams.info(STREAM)).config.subjects?.includes('credreg.prod.tx.>'), 'a node under a user that may update the stream to add the subject')
  t.same((await jsm.streams.info(STREAM)).config.subjects, ['credreg.prod.e.>', 'credreg.prod.identity', 'credreg.prod.tx.>'], 'the old subjects are kept')
  t.match(await full.commit([{ key: 'perm/a', op: 'merge', patch: { a: 2 } }, { key: 'perm/b', op: 'put', value: { b: 1 } }]), { results: [{ version: 2 }, { version: 1 }] })
  await host.waitForApplied((await full.nodeStatus()).appliedSeq)
  t.match(await host.commit([{ key: 'perm/a', op: 'merge', patch: { a: 3 } }, { key: 'perm/b', op: 'delete' }]), { results: [{ version: 3 }, { version: 2 }] }, 'then the host user\'s changesets work too')
})

t.test('a host user under the permissions of an earlier release, without the changeset subject: its changesets fail at once, saying what to allow; its single writes work', async t => {
  const earlier = authorization.replace(/\n\s*"credreg\.prod\.tx\.>"/, '')
  t.not(earlier, authorization)
  const nats = await startNatsServer({ authorization: earlier })
  t.teardown(() => nats.stop())
  const host = await prodNode(t, nats.url, 'credreg-host')
  t.match(await host.put('perm/a', { a: 1 }), { version: 1 })
  const started = Date.now()
  const err = await host.commit([{ key: 'perm/a', op: 'merge', patch: { a: 2 } }, { key: 'perm/b', op: 'put', value: { b: 1 } }]).catch((e: unknown) => e)
  t.ok(Date.now() - started < 2_500, `it fails at once (${Date.now() - started} ms)`)
  t.match(err, { code: 'UNAVAILABLE', message: /may not publish on credreg\.prod\.tx\.[0-9a-f-]+; allow it to publish on credreg\.prod\.tx\.> \(docs\/nats-permissions\.md\)/ })
  t.equal((await host.get('perm/a')).version, 1, 'nothing was written')
})
