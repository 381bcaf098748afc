/**
 * Several files switched in one step, as Kubernetes' AtomicWriter does: the
 * files live in a timestamped directory `DIR/..2026_11_29_19_58_01.XXXXXX`,
 * the symlink `DIR/..data` points at it, and each file's name is a symlink
 * `DIR/NAME -> ..data/NAME`. An update writes and fsyncs a new timestamped
 * directory, renames a new symlink over `..data` (the one atomic step), then
 * removes the old directory. A reader that opens `DIR/a` and then `DIR/b`
 * never gets a newer `a` with an older `b`.
 *
 *   DIR/              0700
 *     a -> ..data/a
 *     b -> ..data/b
 *     ..data -> ..2026_11_29_19_58_01.k3Jd9a
 *     ..2026_11_29_19_58_01.k3Jd9a/   0700: a, b (each 0600 or its mode)
 */
import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import { basename, join } from 'node:path'

/** One file of the directory. */
export interface DirectoryEntry {
  /** A bare file name, not starting with `..`. */
  name: string
  bytes: Buffer
  /** File mode (default 0o600). */
  mode?: number
  /** Owner to chown the file to (root only). */
  owner?: { uid: number, gid: number }
}

const DATA = '..data'

/**
 * Makes `dir` (mode 0700) hold exactly `entries`, switching all of them at
 * once unless it holds them already (bytes, mode, owner); resolves with the
 * names whose file changed, empty when nothing switched.
 */
export async function writeAtomicDir (dir: string, entries: readonly DirectoryEntry[]): Promise<string[]> {
  const names = new Set<string>()
  for (const { name } of entries) {
    if (name === '' || name.includes('/') || name.startsWith('..') || name === '.') throw new TypeError(`not a bare file name: ${JSON.stringify(name)}`)
    if (names.has(name)) throw new TypeError(`file name ${name} given twice`)
    names.add(name)
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const current = await readlink(join(dir, DATA)).catch(() => undefined)
  const changed: string[] = []
  for (const entry of entries) {
    if (current === undefined || !await holds(join(dir, current, entry.name), entry)) changed.push(entry.name)
  }
  const previous = current === undefined ? [] : await readdir(join(dir, current)).catch(() => [])
  const dropped = previous.filter(name => !names.has(name))
  if (changed.length === 0 && dropped.length === 0 && await linked(dir, names)) return []

  const fresh = await mkdtemp(join(dir, `..${timestamp()}.`))
  try {
    for (const entry of entries) await writeEntry(join(fresh, entry.name), entry)
    await syncDir(fresh)
    const temp = join(dir, `..data_tmp.${randomBytes(6).toString('hex')}`)
    await symlink(basename(fresh), temp)
    await rename(temp, join(dir, DATA))
  } catch (err) {
    await rm(fresh, { recursive: true, force: true })
    throw err
  }
  for (const name of names) await link(dir, name)
  for (const name of dropped) await unlink(dir, name)
  await syncDir(dir)
  await removeStale(dir, basename(fresh))
  return [...changed, ...dropped]
}

/** `..YYYY_MM_DD_HH_MM_SS`, UTC, as Kubernetes names them. */
function timestamp (): string {
  return new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '_')
}

async function writeEntry (path: string, entry: DirectoryEntry): Promise<void> {
  const mode = entry.mode ?? 0o600
  const file = await open(path, 'wx', mode)
  try {
    await file.writeFile(entry.bytes)
    await file.chmod(mode)
    if (entry.owner !== undefined) await file.chown(entry.owner.uid, entry.owner.gid)
    await file.sync()
  } finally {
    await file.close()
  }
}

/** Whether `path` holds the entry's bytes with its mode (and owner). */
async function holds (path: string, entry: DirectoryEntry): Promise<boolean> {
  try {
    const info = await stat(path)
    if ((info.mode & 0o7777) !== (entry.mode ?? 0o600)) return false
    if (entry.owner !== undefined && (info.uid !== entry.owner.uid || info.gid !== entry.owner.gid)) return false
    return (await readFile(path)).equals(entry.bytes)
  } catch {
    return false
  }
}

/** Whether every name is the symlink `..data/NAME` already. */
async function linked (dir: string, names: Set<string>): Promise<boolean> {
  for (const name of names) {
    if (await readlink(join(dir, name)).catch(() => undefined) !== `${DATA}/${name}`) return false
  }
  return true
}

/** Makes `DIR/NAME` the symlink `..data/NAME`, replacing whatever is there by a rename. */
async function link (dir: string, name: string): Promise<void> {
  const target = `${DATA}/${name}`
  if (await readlink(join(dir, name)).catch(() => undefined) === target) return
  const temp = join(dir, `..${name}.${randomBytes(6).toString('hex')}.tmp`)
  await symlink(target, temp)
  await rename(temp, join(dir, name))
}

/** Removes `DIR/NAME` if it is the symlink into `..data` a dropped entry left. */
async function unlink (dir: string, name: string): Promise<void> {
  if (await readlink(join(dir, name)).catch(() => undefined) === `${DATA}/${name}`) await rm(join(dir, name), { force: true })
}

/** Removes every `..` entry but `..data` and the directory it points at: the old directory, and what a crash left. */
async function removeStale (dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('..') || name === DATA || name === keep) continue
    const info = await lstat(join(dir, name)).catch(() => undefined)
    if (info !== undefined) await rm(join(dir, name), { recursive: info.isDirectory(), force: true })
  }
}

async function syncDir (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
