/**
 * Replica.rebase and the re-read of a reseeded log, record by record: versions
 * the replica holds note where their records now are without events, newer
 * ones apply, and a second record under one version is refused, never taken
 * for the first.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { v7 as uuidv7 } from 'uuid'
import { Authenticator } from '../../lib/authenticator.js'
import { buildRecord, encodeRecord, type LogRecord } from '../../lib/records/record.js'
import { Replica, type AppliedChange } from '../../lib/replica/replica.js'
import type { Db } from '../../lib/replica/store.js'
import { Sealer } from '../../lib/seal.js'
import { tempDir } from '../fixtures/nodes.js'
import { replicaKeys } from '../fixtures/record-keys.js'

const dataKey = randomBytes(32)
const sealer = new Sealer(dataKey)
const authenticator = new Authenticator(dataKey)

function record (key: string, version: number, value: object): LogRecord {
  const head = { ns: 'default', key, version, meta: { updatedAt: new Date().toISOString(), nodeId: 'test', correlationId: uuidv7() } }
  return buildRecord(head, 'put', Buffer.from(JSON.stringify(value)), { sealerFor: () => sealer, authenticator })
}

const entry = (seq: number, r: LogRecord): { seq: number, key: string, data: Uint8Array } => ({ seq, key: r.key, data: encodeRecord(r) })

t.test('a rebased replica notes where its versions now are, applies what it lacks, and refuses a second record under a version', async t => {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 10 })
  await replica.load()
  await replica.setIdentity('S@old')
  const a1 = record('a', 1, { a: 1 })
  const a2 = record('a', 2, { a: 2 })
  const b1 = record('b', 1, { b: 1 })
  await replica.apply([entry(10, a1), entry(11, b1), entry(12, a2)])

  await replica.rebase('S@new', ['S@old'], 1005)
  t.equal(replica.identity, 'S@new')
  t.same(replica.lineage, ['S@old'])
  t.equal(replica.appliedSeq, 12, 'the applied sequence never goes back')
  t.equal(replica.rebaseUntil, 1005)

  const events: AppliedChange[] = []
  replica.on('applied', changes => events.push(...changes))
  const a2twin = record('a', 2, { a: 'another write under version 2' })
  const a3 = record('a', 3, { a: 3 })
  // The new log, above the old sequences: the versions held, a twin of version 2, a newer version.
  await replica.apply([entry(1001, a1), entry(1002, a2), entry(1003, a2twin), entry(1004, b1), entry(1005, a3)])
  t.same(events.map(e => [e.key, e.stored.version, e.prevVersion, e.stored.seq]), [['a', 3, 2, 1005]], 'only the version the replica lacked is a change')
  t.same(replica.toEntity('a', (await replica.storedVersion('a', 2))!).value, { a: 2 }, 'the first record under version 2 stands')
  t.equal((await replica.storedVersion('a', 2))?.seq, 12, 'versions keep the sequence they were applied at')
  t.same(await replica.head('b'), { ...(await replica.head('b'))!, seq: 11, logSeq: 1004 }, 'and note where their record now is')
  t.same((await replica.head('a'))?.retained, [[1, 10], [2, 12], [3, 1005]])
  t.equal(replica.outcomeOf(1003), false, 'the twin is refused')
  t.equal(replica.outcomeOf(1005), true, 'the newer version applied')
  t.equal(replica.rejected['stale-version'], 1)
  t.equal(replica.rebaseUntil, 0, 'the rebase is over once its last sequence is applied')

  // Reopened: the state is what was persisted.
  const again = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 10 })
  await again.load()
  t.same([again.identity, again.lineage, again.appliedSeq, again.rebaseUntil], ['S@new', ['S@old'], 1005, 0])
})

t.test('a rebase in progress survives a reopen', async t => {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 2 })
  await replica.load()
  await replica.setIdentity('S@old')
  const versions = [1, 2, 3].map(v => record('k', v, { v }))
  await replica.apply(versions.map((r, i) => entry(100 + i, r)))
  await replica.rebase('S@new', ['S@old'], 2003)
  const reopened = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 2 })
  await reopened.load()
  t.equal(reopened.rebaseUntil, 2003)
  // The new log keeps versions 2 and 3 (the per-key limit); then one more write.
  await reopened.apply([entry(2001, versions[1]!), entry(2002, versions[2]!)])
  t.equal(reopened.rebaseUntil, 2003, 'not over before its last sequence')
  t.equal((await reopened.head('k'))?.logSeq, 2002)
  t.same([reopened.outcomeOf(2001), reopened.rejected['stale-version']], [undefined, undefined], 'an older version met again is neither applied nor refused')
  t.equal(reopened.outcomeOf(2002), true, 'the latest one counts')
  await reopened.apply([entry(2003, record('k', 4, { v: 4 }))])
  t.equal(reopened.rebaseUntil, 0)
  t.same((await reopened.head('k'))?.retained, [[3, 102], [4, 2003]])
  t.equal((await reopened.head('k'))?.logSeq, undefined, 'a version applied from the new log is at its own sequence')
})
