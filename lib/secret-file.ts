/**
 * Secrets files (data key, bearer token, NATS seed or creds, TLS key): opened
 * without following a symbolic link and checked on the open descriptor, so
 * the file that is checked is the file that is read. Messages name the file,
 * never what it holds.
 */
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { CredregError } from './errors.js'

/** A secret is small: anything larger is not the file it claims to be. */
const MAX_SECRET_BYTES = 64 * 1024

/** Shortest bearer token: 32 bytes, as much as a random 256-bit key. */
export const MIN_TOKEN_BYTES = 32

// O_NONBLOCK: opening a FIFO planted at the path must not wait for a writer;
// it is then refused as not a regular file.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

/**
 * Reads the secrets file `path` (`what` names it in errors, e.g. `key file`).
 * Refuses (`INVALID_CONFIG`) a symbolic link, anything but a regular file, a
 * file group or others can access, one owned by another user than this
 * process's (or root), and one over `maxBytes` (64 KiB unless said).
 */
export async function readSecretFile (path: string, what: string, maxBytes = MAX_SECRET_BYTES): Promise<Buffer> {
  let handle: FileHandle
  try {
    handle = await open(path, FLAGS)
  } catch (cause) {
    const symlink = (cause as NodeJS.ErrnoException).code === 'ELOOP'
    throw invalid(symlink ? `${what} ${path} is a symbolic link; name the file itself` : `${what} ${path} cannot be read: ${(cause as Error).message}`, cause)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw invalid(`${what} ${path} is not a regular file`)
    if ((info.mode & 0o077) !== 0) {
      throw invalid(`${what} ${path} is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${path}`)
    }
    // Whoever owns the file can rewrite it: only this user, or root.
    const uid = process.geteuid?.()
    if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
      throw invalid(`${what} ${path} belongs to uid ${info.uid}; it must belong to the user credregd runs as (uid ${uid}) or to root`)
    }
    if (info.size > maxBytes) throw invalid(`${what} ${path} is larger than ${maxBytes} bytes; it is not a secrets file`)
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/**
 * Reads a bearer token file: its content less surrounding white space, at
 * least {@link MIN_TOKEN_BYTES} visible ASCII characters (a token goes into
 * an HTTP header as it is), with the checks of {@link readSecretFile}.
 */
export async function readTokenFile (path: string): Promise<string> {
  const token = (await readSecretFile(path, 'token file')).toString('latin1').trim()
  if (token === '') throw invalid(`token file ${path} is empty`)
  if (!/^[\x21-\x7e]+$/.test(token)) throw invalid(`token file ${path} holds characters other than visible ASCII; a token is one line, e.g. openssl rand -hex 32`)
  if (token.length < MIN_TOKEN_BYTES) {
    throw invalid(`token file ${path} holds ${token.length} bytes; a token has at least ${MIN_TOKEN_BYTES} (make one with openssl rand -hex 32)`)
  }
  return token
}

/**
 * Writes `content` to a new key file at `path`, mode 0600, synced; never
 * overwrites (`INVALID_CONFIG` when the file exists or cannot be made).
 */
export async function writeNewSecretFile (path: string, content: Uint8Array | string): Promise<void> {
  let handle: FileHandle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST'
    throw invalid(exists ? `${path} already exists; refusing to overwrite a key file` : `cannot create key file ${path}: ${(cause as Error).message}`, cause)
  }
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function invalid (message: string, cause?: unknown): CredregError {
  return new CredregError('INVALID_CONFIG', message, cause === undefined ? undefined : { cause })
}
