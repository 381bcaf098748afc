/**
 * Writing a rendered file atomically: a temp file in the same directory,
 * written and fsynced, its mode and owner set, renamed over the target, and
 * the directory fsynced. A reader sees the old bytes or the new ones, never a
 * mix, and a crash leaves one or the other.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Options of {@link writeAtomic}. */
export interface AtomicWriteOptions {
  /** File mode (default 0o600). */
  mode?: number
  /** Owner to chown the file to before the rename (root only). */
  owner?: { uid: number, gid: number }
}

/**
 * Replaces `path` with `bytes` unless it holds them already with that mode;
 * resolves with whether it switched the file.
 */
export async function writeAtomic (path: string, bytes: Buffer, options: AtomicWriteOptions = {}): Promise<boolean> {
  const mode = options.mode ?? 0o600
  if (await holds(path, bytes, mode, options.owner)) return false
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', mode)
  try {
    await file.writeFile(bytes)
    await file.chmod(mode)
    if (options.owner !== undefined) await file.chown(options.owner.uid, options.owner.gid)
    await file.sync()
  } catch (err) {
    await file.close()
    await rm(temp, { force: true })
    throw err
  }
  await file.close()
  try {
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  return true
}

/** Whether `path` holds `bytes` with `mode` (and owner) already. */
async function holds (path: string, bytes: Buffer, mode: number, owner?: { uid: number, gid: number }): Promise<boolean> {
  try {
    const info = await stat(path)
    if ((info.mode & 0o7777) !== mode) return false
    if (owner !== undefined && (info.uid !== owner.uid || info.gid !== owner.gid)) return false
    return (await readFile(path)).equals(bytes)
  } catch {
    return false
  }
}

/** Resolves `user:group` (names or numeric ids) to ids, through `id`. */
export async function resolveOwner (spec: string): Promise<{ uid: number, gid: number }> {
  const match = /^([^:]+):([^:]+)$/.exec(spec)
  if (match === null) throw new TypeError(`--owner takes user:group, got ${JSON.stringify(spec)}`)
  const [, user, group] = match as unknown as [string, string, string]
  return { uid: await lookupId(user, '-u'), gid: await lookupGroup(group) }
}

async function lookupId (user: string, flag: string): Promise<number> {
  if (/^\d+$/.test(user)) return Number(user)
  const { execFile } = await import('node:child_process')
  return await new Promise((resolve, reject) => execFile('id', [flag, user], (err, stdout) => {
    if (err !== null) reject(new TypeError(`no such user ${user}`))
    else resolve(Number(stdout.trim()))
  }))
}

async function lookupGroup (group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group)
  const { execFile } = await import('node:child_process')
  return await new Promise((resolve, reject) => execFile('getent', ['group', group], (err, stdout) => {
    const gid = Number(stdout.split(':')[2])
    if (err !== null || !Number.isInteger(gid)) reject(new TypeError(`no such group ${group}`))
    else resolve(gid)
  }))
}
