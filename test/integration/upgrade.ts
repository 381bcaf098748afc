/**
 * Upgrading from records of schema 1 (no tag): a log written by an earlier
 * release is read as it was until its first authenticated record, replicas
 * built from it keep their data, the untagged stream identity gets a tagged
 * copy, and from then on untagged records count for nothing.
 */
import t from 'tap'
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { randomUUID } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { entitySubjectPrefix, streamName } from '../../lib/log/jetstream-log.js'
import { keyToSubjectTokens } from '../../lib/key.js'
import { Sealer } from '../../lib/seal.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'

t.test('a log of schema 1 records upgrades in place: nothing held is lost, and forgeries stop counting at the first authenticated record', async t => {
  const server = await startNatsServer()
  t.teardown(async () => await server.stop())
  const namespace = 'legacy'
  const dataKey = newDataKey()
  const sealer = new Sealer(dataKey)
  const nats = { servers: server.url }
  const nc = await connect(nats)
  t.teardown(async () => await nc.close())
  const js = jetstream(nc)
  const prefix = entitySubjectPrefix(namespace)
  const identitySubject = `credreg.${namespace}.identity`

  // The stream as an earlier release made it: untagged identity, schema 1 records.
  await (await jetstreamManager(nc)).streams.add({
    name: streamName(namespace), subjects: [`${prefix}>`, identitySubject], max_msgs_per_subject: 10, storage: StorageType.File, num_replicas: 1, discard: DiscardPolicy.Old
  })
  await js.publish(identitySubject, JSON.stringify({ id: randomUUID(), lineage: [] }))
  const v1 = (key: string, version: number, op: 'put' | 'patch' | 'delete', value?: object): string => JSON.stringify({
    v: 1,
    ns: namespace,
    key,
    version,
    op,
    meta: { updatedAt: new Date().toISOString(), nodeId: 'old-host', correlationId: uuidv7() },
    ...(value !== undefined ? { value: sealer.seal(Buffer.from(JSON.stringify(value)), { namespace, key, version }) } : {})
  })
  await js.publish(prefix + keyToSubjectTokens('app/a'), v1('app/a', 1, 'put', { user: 'svc' }))
  await js.publish(prefix + keyToSubjectTokens('app/a'), v1('app/a', 2, 'patch', { user: 'svc', pass: 'p2' }))
  await js.publish(prefix + keyToSubjectTokens('app/b'), v1('app/b', 1, 'put', { token: 't1' }))
  await js.publish(prefix + keyToSubjectTokens('app/b'), v1('app/b', 2, 'delete'))

  const dirA = await tempDir(t)
  let a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  await caughtUp(a)
  t.match(await a.get('app/a'), { version: 2, value: { user: 'svc', pass: 'p2' } }, 'schema 1 records count before any authenticated one')
  t.equal((await a.history('app/b')).at(-1)?.op, 'delete')
  const held = await snapshot(a)

  // Restarted: the replica built from the untagged identity stamps a tagged copy of it.
  await a.close()
  a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  await caughtUp(a)
  t.same(await snapshot(a), held, 'the replica keeps everything it held')
  const identity = await (await jetstreamManager(nc)).streams.getMessage(streamName(namespace), { last_by_subj: identitySubject })
  t.match(JSON.parse(identity?.string() ?? '{}'), { tag: /^[A-Za-z0-9_-]{43}$/ }, 'the identity record now carries a tag')

  // The first write of the upgraded node: the log is authenticated from here on.
  t.equal((await a.put('app/a', { user: 'svc', pass: 'p3' }, { ifVersion: 2 })).version, 3)
  await js.publish(prefix + keyToSubjectTokens('app/a'), v1('app/a', 4, 'delete'))
  await js.publish(identitySubject, JSON.stringify({ id: 'forged', lineage: [] }))
  await caughtUp(a)
  t.match(await a.get('app/a'), { version: 3 }, 'an untagged record after it counts for nothing')
  t.equal((await a.nodeStatus()).rejected.legacy, 1)

  // A replica built afterwards from the same log decides every record alike.
  const b = await testNode(t, { dataKey, nats, namespace })
  await caughtUp(b)
  t.same(await snapshot(b), await snapshot(a), 'a new replica holds exactly what the upgraded one holds')
  t.equal((await b.nodeStatus()).rejected.legacy, 1)
  t.equal((await b.nodeStatus()).diverged, undefined, 'and takes no forged identity for the stream\'s')
  await a.close()
  a = await testNode(t, { dataKey, nats, namespace, dataDir: dirA })
  await caughtUp(a)
  t.equal((await a.nodeStatus()).diverged, undefined, 'nor does the upgraded one on restart')
})
