/** Replica.list reads a bounded number of entities per page, tombstones included, and always says where to go on. */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { v7 as uuidv7 } from 'uuid'
import { Authenticator } from '../../lib/authenticator.js'
import { buildRecord, encodeRecord } from '../../lib/records/record.js'
import { Replica } from '../../lib/replica/replica.js'
import type { Db } from '../../lib/replica/store.js'
import { Sealer } from '../../lib/seal.js'
import { tempDir } from '../fixtures/nodes.js'
import { replicaKeys } from '../fixtures/record-keys.js'

const dataKey = randomBytes(32)
const sealer = new Sealer(dataKey)
const authenticator = new Authenticator(dataKey)

function entry (seq: number, key: string, version: number, op: 'put' | 'delete'): { seq: number, key: string, data: Uint8Array } {
  const head = { ns: 'default', key, version, meta: { updatedAt: new Date().toISOString(), nodeId: 'test', correlationId: uuidv7() } }
  return { seq, key, data: encodeRecord(buildRecord(head, op, op === 'delete' ? undefined : Buffer.from('{"a":1}'), { sealerFor: () => sealer, authenticator })) }
}

t.test('a page through tombstones stops at the scan bound and hands back a cursor; following it lists every live key once', async t => {
  const db: Db = new Level<string, string>(await tempDir(t))
  await db.open()
  t.teardown(async () => await db.close())
  const replica = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 10, listScanLimit: 10 })
  await replica.load()
  const entries = []
  let seq = 0
  // 40 deleted keys, then 5 live ones: a first page of 100 would otherwise read all 45.
  for (let i = 0; i < 40; i++) entries.push(entry(++seq, `k/${String(i).padStart(2, '0')}`, 1, 'put'), entry(++seq, `k/${String(i).padStart(2, '0')}`, 2, 'delete'))
  for (let i = 40; i < 45; i++) entries.push(entry(++seq, `k/${i}`, 1, 'put'))
  await replica.apply(entries)

  const first = await replica.list('k/', { limit: 100 })
  t.same(first, { items: [], next: 'k/09' }, 'ten tombstones read, nothing live yet, and a cursor')
  const live: string[] = []
  let pages = 0
  for (let page = first; ; page = await replica.list('k/', { limit: 100, after: page.next })) {
    pages++
    live.push(...page.items.map(i => i.key))
    if (page.next === undefined) break
  }
  t.same(live, ['k/40', 'k/41', 'k/42', 'k/43', 'k/44'])
  t.equal(pages, 5, 'five pages of at most ten entities each')
})
