/**
 * The token store (lib/daemon/token-store.ts) in process: hashes only on
 * disk, changes one at a time, a file written whole or not at all.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { TokenStore } from '../../lib/daemon/token-store.js'

t.test('create, find, list and revoke; the file holds hashes and survives a reopen', async t => {
  const dir = t.testdir()
  const path = join(dir, 'tokens.json')
  const store = await TokenStore.open(path)
  t.equal(store.size, 0)
  t.equal(store.find('anything'), undefined)
  const a = await store.create({ name: 'a', read: ['x/', 'x/'], write: ['x/'] })
  t.match(a, { name: 'a', read: ['x/'], write: ['x/'], rotations: false, createdAt: String, token: /^[A-Za-z0-9_-]{43}$/ }, 'a prefix given twice is kept once')
  const b = await store.create({ name: 'b', rotations: true })
  t.same(store.find(a.token), { name: 'a', read: ['x/'], write: ['x/'], rotations: false })
  t.same(store.find(b.token), { name: 'b', read: [], write: [], rotations: true })
  t.equal(store.find(a.token + 'x'), undefined)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  const text = await readFile(path, 'utf8')
  t.notMatch(text, a.token)
  t.notMatch(text, b.token)

  const reopened = await TokenStore.open(path)
  t.same(reopened.list().map(x => x.name), ['a', 'b'])
  t.same(reopened.find(a.token)?.name, 'a')
  await reopened.revoke('a')
  t.equal(reopened.find(a.token), undefined)
  t.equal((await TokenStore.open(path)).size, 1, 'the revoke is on disk')
  t.same(await readdir(dir), ['tokens.json'], 'no temp file is left behind')
})

t.test('concurrent creates are applied one after another: every one is kept, a name once', async t => {
  const store = await TokenStore.open(join(t.testdir(), 'tokens.json'))
  const results = await Promise.allSettled([...Array.from({ length: 10 }, (_, i) => store.create({ name: `t${i}` })), store.create({ name: 't0' })])
  t.equal(results.filter(r => r.status === 'fulfilled').length, 10)
  t.match(results.at(-1), { status: 'rejected', reason: { code: 'BAD_REQUEST', message: /a token named t0 exists already/ } })
  t.equal((await TokenStore.open(store.path)).size, 10)
})

t.test('a prefix that is not one is BAD_REQUEST, and nothing is kept', async t => {
  const store = await TokenStore.open(join(t.testdir(), 'tokens.json'))
  await t.rejects(store.create({ name: 'x', read: ['ok/', 'a*b'] }), { code: 'BAD_REQUEST', message: 'read[1] is not a key prefix: at most 256 characters of A-Z a-z 0-9 _ . - /' })
  await t.rejects(store.create({ name: 'x', write: [''] }), { code: 'BAD_REQUEST', message: /write\[0\] is empty/ })
  t.equal(store.size, 0)
  await t.rejects(store.revoke('x'), { code: 'NOT_FOUND' })
})
