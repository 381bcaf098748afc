/**
 * Replica.rebase and the re-read of a reseeded log, record by record: versions
 * the replica holds take their new sequences without events, newer ones apply,
 * and a second record under one version is refused, never taken for the first.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { v7 as uuidv7 } from 'uuid'
import { encodeRecord, RECORD_SCHEMA_VERSION, type LogRecord } from '../../lib/record.js'
import { Replica, type AppliedChange } from '../../lib/replica/replica.js'
import type { Db } from '../../lib/replica/store.js'
import { Sealer } from '../../lib/seal.js'
import { tempDir } from '../fixtures/nodes.js'

const sealer = new Sealer(randomBytes(32))

function record (key: string, version: number, value: object): LogRecord {
  return {
    v: RECORD_SCHEMA_VERSION,
    ns: 'default',
    key,
    version,
    op: 'put',
    meta: { updatedAt: new Date().toISOString(), nodeId: 'test', correlationId: uuidv7() },
    value: sealer.seal(Buffer.from(JSON.stringify(value)), { namespace: 'default', key, version })
  }
}

const entry = (seq: number, r: LogRecord): { seq: number, key: string, data: Uint8Array } => ({ seq, key: r.key, data: encodeRecord(r) })

t.test('a rebased replica takes on new sequences, applies what it lacks, and refuses a second record under a version', async t => {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', sealer, historyDepth: 10 })
  await replica.load()
  await replica.setIdentity('S@old')
  const a1 = record('a', 1, { a: 1 })
  const a2 = record('a', 2, { a: 2 })
  const b1 = record('b', 1, { b: 1 })
  await replica.apply([entry(10, a1), entry(11, b1), entry(12, a2)])

  await replica.rebase('S@new', ['S@old'], 5)
  t.equal(replica.identity, 'S@new')
  t.same(replica.lineage, ['S@old'])
  t.equal(replica.appliedSeq, 0)
  t.same(replica.toEntity('a', (await replica.head('a'))!).value, { a: 2 }, 'nothing is rolled back meanwhile')

  const events: AppliedChange[] = []
  replica.on('applied', changes => events.push(...changes))
  const a2twin = record('a', 2, { a: 'another write under version 2' })
  const a3 = record('a', 3, { a: 3 })
  // The new log: the versions held, a second record under version 2, a newer version.
  await replica.apply([entry(1, a1), entry(2, a2), entry(3, a2twin), entry(4, b1), entry(5, a3)])
  t.same(events.map(e => [e.key, e.stored.version, e.prevVersion]), [['a', 3, 2]], 'only the version the replica lacked is a change')
  t.same(replica.toEntity('a', (await replica.storedVersion('a', 2))!).value, { a: 2 }, 'the first record under version 2 stands')
  t.equal((await replica.storedVersion('a', 2))?.seq, 2, 'with its new sequence')
  t.equal((await replica.head('b'))?.seq, 4)
  t.same((await replica.head('a'))?.retained, [[1, 1], [2, 2], [3, 5]], 'retained versions carry the new sequences')
  t.ok(replica.refused(3), 'the twin is refused')
  t.equal(replica.rejected['stale-version'], 1)
  t.equal(replica.rebaseUntil, 0, 'the rebase is over once its last sequence is applied')
  t.equal(replica.resyncHorizon, 5, 'a watcher resuming from before it gets resync events')

  // Reopened: the state is what was persisted.
  const again = new Replica({ db, namespace: 'default', sealer, historyDepth: 10 })
  await again.load()
  t.same([again.identity, again.lineage, again.appliedSeq, again.rebaseUntil], ['S@new', ['S@old'], 5, 0])
})

t.test('a rebase in progress survives a reopen, and records of the old log are never mixed in', async t => {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', sealer, historyDepth: 2 })
  await replica.load()
  await replica.setIdentity('S@old')
  const versions = [1, 2, 3].map(v => record('k', v, { v }))
  await replica.apply(versions.map((r, i) => entry(100 + i, r)))
  await replica.rebase('S@new', ['S@old'], 3)
  const reopened = new Replica({ db, namespace: 'default', sealer, historyDepth: 2 })
  await reopened.load()
  t.equal(reopened.rebaseUntil, 3)
  // The new log keeps versions 2 and 3 (the per-key limit); then one more write prunes version 2.
  await reopened.apply([entry(1, versions[1]!), entry(2, versions[2]!)])
  t.equal(reopened.rebaseUntil, 3, 'not over before its last sequence')
  await reopened.apply([entry(3, record('k', 4, { v: 4 }))])
  t.equal(reopened.rebaseUntil, 0)
  t.same((await reopened.head('k'))?.retained, [[3, 2], [4, 3]])
  t.equal(await reopened.store.changes.get('0000000000000101'), undefined, 'no index entry of the old log survives')
})
