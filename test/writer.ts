/**
 * The writer against a scripted log (test/fixtures/scripted-log.ts) and a
 * real replica: every row of docs/writer.md, including the paths a real
 * server reaches only by chance.
 */
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { v7 as uuidv7 } from 'uuid'
import { CredregError } from '../lib/errors.js'
import { buildRecord, encodeRecord } from '../lib/records/record.js'
import { Replica } from '../lib/replica/replica.js'
import type { WriteRefusal } from '../lib/replica/follower.js'
import type { Db } from '../lib/replica/store.js'
import type { JsonObject } from '../lib/types.js'
import { Writer, type WriteIntent } from '../lib/write/writer.js'
import { ScriptedLog } from './fixtures/scripted-log.js'
import { tempDir } from './fixtures/nodes.js'
import { recordKeys, replicaKeys } from './fixtures/record-keys.js'

const dataKey = randomBytes(32)

interface Bench { log: ScriptedLog, replica: Replica, writer: Writer, refusal: { now: WriteRefusal | undefined } }

async function bench (t: Test, timeoutMs = 3000): Promise<Bench> {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 10 })
  await replica.load()
  const log = new ScriptedLog()
  await log.open()
  const refusal: { now: WriteRefusal | undefined } = { now: undefined }
  const writer = new Writer({ log, replica, namespace: 'default', nodeId: 'writer', maxValueBytes: 65536, timeoutMs, refusal: () => refusal.now })
  return { log, replica, writer, refusal }
}

/** A record of another writer (or a forger, with `key` another data key). */
function other (key: string, version: number, value: JsonObject, signingKey: Uint8Array = dataKey): Uint8Array {
  const head = { ns: 'default', key, version, meta: { updatedAt: new Date().toISOString(), nodeId: 'other', correlationId: uuidv7() } }
  return encodeRecord(buildRecord(head, 'put', Buffer.from(JSON.stringify(value)), recordKeys(signingKey)))
}

const put = (value: JsonObject, extra: Partial<WriteIntent> = {}): WriteIntent => ({ op: 'put', apply: () => value, ...extra })

/** Delivers everything the log holds to the replica after each append, as a follower keeping up would. */
function keepUp (b: Bench): void {
  b.log.onAppend = (_key, _data, _options, land) => {
    const seq = land()
    setImmediate(() => { void b.log.deliver(b.replica) })
    return seq
  }
}

t.test('replica trusted: a write lands with one append and nothing else asked of the log', async t => {
  const b = await bench(t)
  keepUp(b)
  t.match(await b.writer.write('k', put({ a: 1 })), { version: 1, created: true })
  t.match(await b.writer.write('k', put({ a: 2 }, { ifVersion: 1 })), { version: 2, created: false })
  t.same(b.log.calls, ['append', 'append'])
})

t.test('older: a version already superseded in the replica is refused without asking the log', async t => {
  const b = await bench(t)
  b.log.push('k', other('k', 1, { a: 1 }))
  b.log.push('k', other('k', 2, { a: 2 }))
  await b.log.deliver(b.replica)
  await t.rejects(b.writer.write('k', put({ a: 3 }, { ifVersion: 1 })), { code: 'VERSION_CONFLICT', expectedVersion: 1, currentVersion: 2 })
  t.same(b.log.calls, [])
})

t.test('conflict, unconfirmed: the log is asked, the replica catches up, and the write goes on what the log holds', async t => {
  const b = await bench(t)
  keepUp(b)
  b.log.push('k', other('k', 1, { a: 1 }))
  // The replica has not read version 1 yet: it delivers when the writer asks the log.
  b.log.onLastSeqOf = () => { setImmediate(() => { void b.log.deliver(b.replica) }) }
  t.match(await b.writer.write('k', put({ a: 2 }, { ifVersion: 1 })), { version: 2 })
  t.same(b.log.calls, ['lastSeqOf', 'lastSeq', 'append'])
})

t.test('conflict, confirmed by the log: VERSION_CONFLICT', async t => {
  const b = await bench(t)
  b.log.push('k', other('k', 1, { a: 1 }))
  await b.log.deliver(b.replica)
  await t.rejects(b.writer.write('k', put({ a: 2 }, { ifVersion: 5 })), { code: 'VERSION_CONFLICT', currentVersion: 1 })
  await t.rejects(b.writer.write('k', put({ a: 2 }, { ifAbsent: true })), { code: 'VERSION_CONFLICT' })
  t.same(b.log.calls, ['lastSeqOf', 'lastSeq', 'lastSeqOf', 'lastSeq'], 'each refusal asked the log where the key and the log stand, appended nothing')
})

t.test('missing: a patch or delete of what the log confirms absent is NOT_FOUND', async t => {
  const b = await bench(t)
  await t.rejects(b.writer.write('k', { op: 'delete' }), { code: 'NOT_FOUND' })
  await t.rejects(b.writer.write('k', { op: 'patch', apply: c => ({ ...c, a: 1 }) }), { code: 'NOT_FOUND' })
  t.same(b.log.calls, ['lastSeqOf', 'lastSeq', 'lastSeqOf', 'lastSeq'])
})

t.test('stale append: another writer came first; the writer reads the log and decides again', async t => {
  const b = await bench(t)
  keepUp(b)
  await b.writer.write('k', put({ a: 1 }))
  b.log.push('k', other('k', 2, { a: 'theirs' }))
  b.log.onLastSeqOf = () => { setImmediate(() => { void b.log.deliver(b.replica) }) }
  t.match(await b.writer.write('k', put({ a: 'mine' })), { version: 3 }, 'an unconditional write goes on top of theirs')
  b.log.push('k', other('k', 4, { a: 'theirs again' }))
  await t.rejects(b.writer.write('k', put({ a: 'mine' }, { ifVersion: 3 })), { code: 'VERSION_CONFLICT', currentVersion: 4 }, 'a conditional one is refused')
})

t.test('own record refused: a twin under the same version landed first (a clustered stream let both through)', async t => {
  const b = await bench(t)
  keepUp(b)
  await b.writer.write('k', put({ a: 1 }))
  let twins = 0
  b.log.onAppend = (key, _data, _options, land) => {
    if (twins++ === 0) b.log.push(key, other(key, 2, { a: 'twin' }))
    else return land()
    // Ours lands too, after the twin, as if its expected sequence had still held.
    const seq = b.log.push(key, _data)
    setImmediate(() => { void b.log.deliver(b.replica) })
    return seq
  }
  b.log.onLastSeqOf = () => { setImmediate(() => { void b.log.deliver(b.replica) }) }
  const result = await b.writer.write('k', put({ a: 'mine' }))
  t.equal(result.version, 3, 'decided again on top of the twin')
  t.equal(b.replica.rejected['stale-version'], 1, 'every replica refuses the second record under version 2')
  t.same((await b.replica.storedHistory('k')).map(v => v.version), [1, 2, 3])
})

t.test('own record never read by the replica: the log tells which came first', async t => {
  // `twin`: a record under the same version that landed just before ours (read by the replica).
  const cases: Array<{ name: string, twin?: Uint8Array, expect: number }> = [
    { name: 'ours came first: applied', expect: 2 },
    { name: 'a forged twin came first: it counts for nothing, ours is applied', twin: other('k', 2, { a: 'forged' }, randomBytes(32)), expect: 2 },
    { name: 'a genuine twin came first: ours was refused, decided again', twin: other('k', 2, { a: 'twin' }), expect: 3 }
  ]
  for (const c of cases) {
    await t.test(c.name, async t => {
      const b = await bench(t)
      keepUp(b)
      await b.writer.write('k', put({ a: 1 }))
      let first = true
      b.log.onAppend = (key, data, _options, land) => {
        if (!first) {
          const seq = land()
          setImmediate(() => { void b.log.deliver(b.replica) })
          return seq
        }
        first = false
        const twin = c.twin === undefined ? undefined : b.log.push(key, c.twin)
        const seq = b.log.push(key, data)
        // This lagging replica reads the twin, but never ours (gone from its consumer's view).
        setImmediate(() => {
          void (async () => {
            if (twin !== undefined) await b.log.deliver(b.replica, [twin])
            await b.log.skipTo(b.replica, seq)
          })()
        })
        return seq
      }
      b.log.onLastSeqOf = () => { setImmediate(() => { void b.log.deliver(b.replica) }) }
      t.match(await b.writer.write('k', put({ a: 'mine' })), { version: c.expect })
      t.ok(b.log.calls.includes('recordAfter'), 'the log was asked')
    })
  }
})

t.test('own record never read and gone from the log: TIMEOUT, never a false ok', async t => {
  const b = await bench(t)
  b.log.onAppend = (key, data) => {
    const seq = b.log.push(key, data)
    b.log.records.length = 0
    setImmediate(() => { void b.log.skipTo(b.replica, seq) })
    return seq
  }
  await t.rejects(b.writer.write('k', put({ a: 1 })), { code: 'TIMEOUT', message: /cannot be told/ })
})

t.test('retryable append failures are retried while the log is connected, within the deadline', async t => {
  const b = await bench(t)
  let failures = 0
  b.log.onAppend = (_key, _data, _options, land) => {
    if (failures++ < 2) throw new CredregError('UNAVAILABLE', 'publish timed out')
    const seq = land()
    setImmediate(() => { void b.log.deliver(b.replica) })
    return seq
  }
  t.match(await b.writer.write('k', put({ a: 1 })), { version: 1 })
  t.same(b.log.calls, ['append', 'append', 'append'])
  b.log.onAppend = () => { throw new CredregError('UNAVAILABLE', 'publish timed out') }
  await t.rejects(b.writer.write('k', put({ a: 2 })), { code: /UNAVAILABLE|TIMEOUT/ }, 'until the deadline')
})

t.test('an append the log never acknowledged: retried with the same message id; if the deadline passes, TIMEOUT, never a definite failure', async t => {
  const b = await bench(t, 500)
  const ids: string[] = []
  let attempts = 0
  b.log.onAppend = (_key, _data, options, land) => {
    ids.push(options.msgId)
    t.ok(options.timeoutMs !== undefined && options.timeoutMs <= 500, 'each attempt is bounded by what is left of the deadline')
    if (attempts++ === 0) throw new CredregError('TIMEOUT', 'no acknowledgement')
    const seq = land()
    setImmediate(() => { void b.log.deliver(b.replica) })
    return seq
  }
  t.match(await b.writer.write('k', put({ a: 1 })), { version: 1 }, 'the retry lands it')
  t.equal(new Set(ids).size, 1, 'under one message id, so it lands at most once')
  attempts = 0
  b.log.onAppend = () => {
    if (attempts++ === 0) throw new CredregError('TIMEOUT', 'no acknowledgement')
    throw new CredregError('UNAVAILABLE', 'disconnected')
  }
  await t.rejects(b.writer.write('k', put({ a: 2 })), { code: 'TIMEOUT', message: /may still have been appended/ }, 'unknown outcome, even when the last attempt failed otherwise')
})

t.test('a disconnected log: the write waits for the connection, then fails UNAVAILABLE', async t => {
  const b = await bench(t, 400)
  keepUp(b)
  // The writer's wait is an unreferenced timer, as it should be in a process that has its own work; here nothing else keeps the process up.
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => { clearInterval(alive) })
  b.log.setConnected(false)
  await t.rejects(b.writer.write('k', put({ a: 1 })), { code: 'UNAVAILABLE', message: /not reachable/ })
  const pending = b.writer.write('k', put({ a: 1 }))
  setImmediate(() => { b.log.setConnected(true) })
  t.match(await pending, { version: 1 }, 'a connection that comes back in time lets it through')
})

t.test('a refusal (a diverged log) fails at once with its code', async t => {
  const b = await bench(t)
  b.refusal.now = { code: 'LOG_DIVERGED', reason: 'the stream was recreated' }
  await t.rejects(b.writer.write('k', put({ a: 1 })), { code: 'LOG_DIVERGED', message: /recreated/ })
  t.same(b.log.calls, [])
})
