/** Data key files: exactly 32 raw bytes, readable by the owner only. */
import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'
import { CredregError } from './errors.js'
import { DATA_KEY_BYTES } from './seal.js'
import { readSecretFile } from './secret-file.js'

/**
 * Reads a data key file. Refuses (`INVALID_CONFIG`) a missing file, one of the
 * wrong length, and whatever {@link readSecretFile} refuses (a symbolic link,
 * a file group or others can access: a key anyone on the host can read
 * protects nothing).
 */
export async function readKeyFile (path: string): Promise<Buffer> {
  const key = await readSecretFile(path, 'key file')
  if (key.length !== DATA_KEY_BYTES) {
    throw new CredregError('INVALID_CONFIG', `key file ${path} holds ${key.length} bytes; a data key is exactly ${DATA_KEY_BYTES} raw bytes (make one with credreg keygen)`)
  }
  return key
}

/** Writes a new random data key to `path` with mode 0600; never overwrites. */
export async function writeNewKeyFile (path: string): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST'
    throw new CredregError('INVALID_CONFIG', exists ? `${path} already exists; refusing to overwrite a key file` : `cannot create key file ${path}: ${(cause as Error).message}`, { cause })
  }
  try {
    await handle.writeFile(randomBytes(DATA_KEY_BYTES))
    await handle.sync()
  } finally {
    await handle.close()
  }
}
