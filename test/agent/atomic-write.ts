/**
 * lib/agent/atomic-write.ts: a file is switched whole by a rename, gets its
 * mode whatever the umask, is left alone when it holds the bytes and mode
 * already, and a failed write leaves no temp file behind.
 */
import { mkdir, readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { resolveOwner, writeAtomic } from '../../lib/agent/atomic-write.js'

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o7777

t.test('a new file gets the bytes and mode 0600 by default, or the mode asked for whatever the umask', async t => {
  const dir = t.testdir()
  t.equal(await writeAtomic(join(dir, 'a'), Buffer.from('one')), true)
  t.equal(await readFile(join(dir, 'a'), 'utf8'), 'one')
  t.equal(await modeOf(join(dir, 'a')), 0o600)
  const umask = process.umask(0o077)
  t.teardown(() => { process.umask(umask) })
  t.equal(await writeAtomic(join(dir, 'b'), Buffer.from('two'), { mode: 0o644 }), true)
  t.equal(await modeOf(join(dir, 'b')), 0o644)
  t.same(await readdir(dir), ['a', 'b'], 'no temp file left')
})

t.test('the same bytes with the same mode are not written again', async t => {
  const dir = t.testdir()
  const path = join(dir, 'f')
  await writeAtomic(path, Buffer.from('same'))
  const before = await stat(path)
  t.equal(await writeAtomic(path, Buffer.from('same')), false)
  const after = await stat(path)
  t.equal(after.ino, before.ino, 'the same inode')
  t.equal(after.mtimeMs, before.mtimeMs, 'not touched')
})

t.test('other bytes, or the same bytes with another mode, replace the file by a rename', async t => {
  const dir = t.testdir()
  const path = join(dir, 'f')
  await writeAtomic(path, Buffer.from('v1'))
  const first = await stat(path)
  t.equal(await writeAtomic(path, Buffer.from('v2')), true)
  const second = await stat(path)
  t.not(second.ino, first.ino, 'a new inode: renamed over, not rewritten in place')
  t.equal(await readFile(path, 'utf8'), 'v2')
  await chmod(path, 0o644)
  t.equal(await writeAtomic(path, Buffer.from('v2')), true, 'the mode differs')
  t.equal(await modeOf(path), 0o600)
  t.same(await readdir(dir), ['f'])
})

t.test('a failed write rejects, keeps what was there and leaves no temp file', async t => {
  const dir = t.testdir()
  const target = join(dir, 'taken')
  await mkdir(target)
  await writeFile(join(target, 'inside'), 'kept')
  await t.rejects(writeAtomic(target, Buffer.from('x')), { code: 'EISDIR' }, 'a directory cannot be renamed over')
  t.same(await readdir(dir), ['taken'], 'the temp file was removed')
  t.equal(await readFile(join(target, 'inside'), 'utf8'), 'kept')
  await t.rejects(writeAtomic(join(dir, 'missing', 'f'), Buffer.from('x')), { code: 'ENOENT' })
  t.same(await readdir(dir), ['taken'])
})

t.test('resolveOwner takes user:group as ids or names and refuses anything else', async t => {
  t.same(await resolveOwner('1000:1001'), { uid: 1000, gid: 1001 })
  t.same(await resolveOwner('root:root'), { uid: 0, gid: 0 })
  await t.rejects(resolveOwner('root'), TypeError)
  await t.rejects(resolveOwner('a:b:c'), TypeError)
  await t.rejects(resolveOwner('no-such-user-credreg:root'), { message: /no such user/ })
  await t.rejects(resolveOwner('0:no-such-group-credreg'), { message: /no such group/ })
})

t.test('as root, the owner is set before the rename and a file of another owner is switched', { skip: process.getuid?.() !== 0 && 'not root' }, async t => {
  const dir = t.testdir()
  const path = join(dir, 'f')
  t.equal(await writeAtomic(path, Buffer.from('x'), { owner: { uid: 1234, gid: 2345 } }), true)
  t.match(await stat(path), { uid: 1234, gid: 2345 })
  t.equal(await writeAtomic(path, Buffer.from('x'), { owner: { uid: 1234, gid: 2345 } }), false, 'holds it already')
  t.equal(await writeAtomic(path, Buffer.from('x'), { owner: { uid: 0, gid: 0 } }), true, 'another owner')
  t.match(await stat(path), { uid: 0, gid: 0 })
})
