/** `credreg keygen --out PATH`: a new 32-byte data key, mode 0600, never overwritten; and the daemon accepts it. */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../fixtures/cli.js'
import { shortTempDir } from '../fixtures/daemon.js'

t.test('keygen writes 32 random bytes with mode 0600 and refuses to overwrite', async t => {
  const dir = await shortTempDir(t)
  const path = join(dir, 'data.key')
  const other = join(dir, 'other.key')
  const [made, json] = await Promise.all([runCli(['keygen', '--out', path]), runCli(['keygen', '--out', other, '--json'])])
  t.equal(made.code, 0, made.stderr)
  t.match(made.stdout, `wrote a new 32-byte data key to ${path} (mode 0600)`)
  t.same(JSON.parse(json.stdout), { path: other })
  const key = await readFile(path)
  t.equal(key.length, 32)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.notSame(key, await readFile(other), 'every key is new')

  const again = await runCli(['keygen', '--out', path])
  t.equal(again.code, 2)
  t.match(again.stderr, /already exists; refusing to overwrite a key file \(INVALID_CONFIG\)\n$/)
  t.same(await readFile(path), key, 'the key file is untouched')
})
