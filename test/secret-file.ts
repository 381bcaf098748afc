import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { readKeyFile } from '../lib/key-file.js'
import { readSecretFile, readTokenFile } from '../lib/secret-file.js'

const TOKEN = 'a'.repeat(24) + '-s3cret-' // 32 bytes

const write = async (name: string, content: string | Buffer, mode = 0o600): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, content, { mode })
  await chmod(path, mode)
  return path
}

const dir = t.testdir()

/** The error `promise` rejects with; fails the test if it resolves. */
const failure = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

t.test('an owner-only regular file is read', async t => {
  t.equal(await readTokenFile(await write('token', TOKEN + '\n')), TOKEN, 'surrounding white space removed')
  const key = randomBytes(32)
  t.same(await readKeyFile(await write('key', key)), key)
})

t.test('a file group or others can access is refused, naming the mode and never the content', async t => {
  for (const mode of [0o644, 0o640, 0o604, 0o620]) {
    const path = await write(`open-${mode.toString(8)}`, TOKEN, mode)
    const err = await failure(readTokenFile(path))
    t.match(err, { code: 'INVALID_CONFIG', message: new RegExp(`accessible by group or others \\(mode ${mode.toString(8)}\\); run chmod 600`) }, `mode ${mode.toString(8)}`)
    t.notMatch(err.message, 's3cret')
  }
  await t.rejects(readKeyFile(await write('open.key', randomBytes(32), 0o644)), { code: 'INVALID_CONFIG', message: /key file .* accessible by group or others/ })
})

t.test('a symbolic link is refused, even to a good file', async t => {
  const target = await write('real-token', TOKEN)
  const link = join(dir, 'link-token')
  await symlink(target, link)
  await t.rejects(readTokenFile(link), { code: 'INVALID_CONFIG', message: /token file .*link-token is a symbolic link/ })
  const key = await write('real.key', randomBytes(32))
  await symlink(key, join(dir, 'link.key'))
  await t.rejects(readKeyFile(join(dir, 'link.key')), { code: 'INVALID_CONFIG', message: /is a symbolic link/ })
})

t.test('a directory or a FIFO is refused (the FIFO without waiting for a writer)', async t => {
  const sub = join(dir, 'a-dir')
  await mkdir(sub, { mode: 0o700 })
  await t.rejects(readSecretFile(sub, 'token file'), { code: 'INVALID_CONFIG', message: /not a regular file/ })
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', ['-m', '600', fifo])
  await t.rejects(readSecretFile(fifo, 'token file'), { code: 'INVALID_CONFIG', message: /not a regular file/ })
})

t.test('a file owned by another user is refused', { skip: process.geteuid?.() !== 0 && 'needs root to chown' }, async t => {
  const path = await write('nobody-token', TOKEN)
  await chown(path, 65534, 65534)
  await t.rejects(readTokenFile(path), { code: 'INVALID_CONFIG', message: /belongs to uid 65534/ })
})

t.test('a token shorter than 32 bytes, empty or with non-visible characters is refused without quoting it', async t => {
  const short = await failure(readTokenFile(await write('short', 'tiny-secret-31-bytes-0123456789')))
  t.match(short, { code: 'INVALID_CONFIG', message: /holds 31 bytes; a token has at least 32/ })
  t.notMatch(short.message, 'tiny-secret')
  await t.rejects(readTokenFile(await write('empty', ' \n')), { code: 'INVALID_CONFIG', message: /is empty/ })
  const spaced = await failure(readTokenFile(await write('spaced', `${TOKEN} ${TOKEN}`)))
  t.match(spaced, { code: 'INVALID_CONFIG', message: /other than visible ASCII/ })
  t.notMatch(spaced.message, 's3cret')
})

t.test('a file over 64 KiB is refused', async t => {
  await t.rejects(readSecretFile(await write('huge', Buffer.alloc(65 * 1024, 0x61)), 'token file'), { code: 'INVALID_CONFIG', message: /larger than 65536 bytes/ })
})
