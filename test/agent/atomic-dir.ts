/**
 * lib/agent/atomic-dir.ts and render-dir.ts: the files of a directory are
 * symlinks through `..data` into a timestamped directory, switched together
 * by one rename; a reader never sees one file new and another old; the old
 * timestamped directory goes; an unchanged set switches nothing; a failed
 * render switches nothing.
 */
import { readdir, readFile, readlink, stat, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { writeAtomicDir } from '../../lib/agent/atomic-dir.js'
import { RenderedDirectory } from '../../lib/agent/render-dir.js'
import { RenderedFile } from '../../lib/agent/render-file.js'
import { compileTemplate } from '../../lib/agent/template.js'

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o7777
const stamped = (names: string[]): string[] => names.filter(name => /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(name))
const files = (gen: number): Array<{ name: string, bytes: Buffer }> => [
  { name: 'a', bytes: Buffer.from(`a=${gen}\n`) },
  { name: 'b', bytes: Buffer.from(`b=${gen}\n`) }
]

t.test('the layout: NAME -> ..data/NAME, ..data -> one timestamped directory; files 0600 (or their mode), directories 0700', async t => {
  const dir = join(t.testdir(), 'secrets')
  t.same(await writeAtomicDir(dir, [{ name: 'a', bytes: Buffer.from('one') }, { name: 'b', bytes: Buffer.from('two'), mode: 0o640 }]), ['a', 'b'])
  t.equal(await readFile(join(dir, 'a'), 'utf8'), 'one')
  t.equal(await readFile(join(dir, 'b'), 'utf8'), 'two')
  t.equal(await readlink(join(dir, 'a')), '..data/a')
  t.equal(await readlink(join(dir, 'b')), '..data/b')
  const entries = await readdir(dir)
  t.equal(stamped(entries).length, 1, 'one timestamped directory')
  t.equal(await readlink(join(dir, '..data')), stamped(entries)[0])
  t.same(entries.sort(), ['..data', stamped(entries)[0], 'a', 'b'].sort(), 'nothing else')
  t.equal(await modeOf(dir), 0o700)
  t.equal(await modeOf(join(dir, '..data')), 0o700, 'the timestamped directory')
  t.equal(await modeOf(join(dir, 'a')), 0o600)
  t.equal(await modeOf(join(dir, 'b')), 0o640)
})

t.test('a switch replaces ..data by a rename and removes the old timestamped directory; the same files switch nothing', async t => {
  const dir = t.testdir()
  await writeAtomicDir(dir, files(1))
  const first = await readlink(join(dir, '..data'))
  t.same(await writeAtomicDir(dir, files(1)), [], 'unchanged: nothing switched')
  t.equal(await readlink(join(dir, '..data')), first, 'the same timestamped directory')
  t.same(await writeAtomicDir(dir, [{ name: 'a', bytes: Buffer.from('a=1\n') }, { name: 'b', bytes: Buffer.from('b=2\n') }]), ['b'], 'only b changed')
  const second = await readlink(join(dir, '..data'))
  t.not(second, first)
  t.same(stamped(await readdir(dir)), [second], 'the old timestamped directory is gone')
  t.equal(await readFile(join(dir, 'a'), 'utf8'), 'a=1\n')
  t.equal(await readFile(join(dir, 'b'), 'utf8'), 'b=2\n')
  t.same(await writeAtomicDir(dir, [{ name: 'a', bytes: Buffer.from('a=1\n') }]), ['b'], 'a dropped file counts as a change')
  await t.rejects(lstat(join(dir, 'b')), { code: 'ENOENT' }, 'its symlink is gone')
  t.same((await readdir(dir)).filter(name => !name.startsWith('..')), ['a'])
})

t.test('a reader looping over two files never sees one new and the other old', async t => {
  const dir = t.testdir()
  await writeAtomicDir(dir, files(0))
  const done = new AbortController()
  let reads = 0
  const gen = (text: string): number => Number(text.split('=')[1])
  const reader = (async () => {
    while (!done.signal.aborted) {
      // Read a then b, then b then a: whichever order the writer used, a
      // mix would show a second read older than the first.
      const order = reads % 2 === 0 ? ['a', 'b'] : ['b', 'a']
      const first = gen(await readFile(join(dir, order[0] as string), 'utf8'))
      const second = gen(await readFile(join(dir, order[1] as string), 'utf8'))
      if (second < first) throw new Error(`read ${order[0]}=${first} then ${order[1]}=${second}`)
      reads++
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  for (let n = 1; n <= 150; n++) await writeAtomicDir(dir, files(n))
  done.abort()
  await reader
  t.ok(reads > 0, `${reads} reads, no mix`)
  t.equal(await readFile(join(dir, 'b'), 'utf8'), 'b=150\n')
  t.equal(stamped(await readdir(dir)).length, 1, 'one timestamped directory left')
})

t.test('a name that is not a bare file name, or given twice, is a TypeError', async t => {
  const dir = t.testdir()
  for (const name of ['../x', 'a/b', '..data', '']) await t.rejects(writeAtomicDir(dir, [{ name, bytes: Buffer.from('x') }]), TypeError, name)
  await t.rejects(writeAtomicDir(dir, [{ name: 'a', bytes: Buffer.from('x') }, { name: 'a', bytes: Buffer.from('y') }]), TypeError)
})

t.test('RenderedDirectory: every template rendered, then switched together; a failed render switches nothing', async t => {
  const dir = join(t.testdir(), 'out')
  const a = new RenderedFile(compileTemplate('user={{ secret["d/db"].user }}\n', 'a.tpl'), join(dir, 'a.conf'))
  const b = new RenderedFile(compileTemplate('password={{ secret["d/db"].password }}\n', 'b.tpl'), join(dir, 'b.conf'), { mode: 0o640 })
  const rendered = new RenderedDirectory(dir, [a, b])
  const first = await rendered.write(new Map([['d/db', { user: 'app', password: 'p1' }]]))
  t.same(first.map(r => r.ok && r.changed), [true, true])
  t.equal(await readFile(join(dir, 'b.conf'), 'utf8'), 'password=p1\n')
  t.equal(await modeOf(join(dir, 'b.conf')), 0o640)
  const before = await readlink(join(dir, '..data'))

  const failed = await rendered.write(new Map([['d/db', { user: 'app2' }]]))
  t.same(failed.map(r => r.ok), [false, false])
  t.match(failed[1], { ok: false, error: { message: /missing field d\/db\.password/ } })
  t.match(failed[0], { ok: false, error: { message: /not switched: b\.conf failed/ } })
  t.equal(await readlink(join(dir, '..data')), before, 'nothing switched')
  t.equal(await readFile(join(dir, 'a.conf'), 'utf8'), 'user=app\n', 'a.conf keeps its bytes though its own render passed')

  const second = await rendered.write(new Map([['d/db', { user: 'app', password: 'p2' }]]))
  t.same(second.map(r => r.ok && r.changed), [false, true])
  t.equal(await readFile(join(dir, 'b.conf'), 'utf8'), 'password=p2\n')
  t.throws(() => new RenderedDirectory(dir, [new RenderedFile(a.template, '/elsewhere/a.conf')]), TypeError)
})
