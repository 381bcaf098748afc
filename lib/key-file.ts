/** Data key files: exactly 32 raw bytes, readable by the owner only. */
import { randomBytes } from 'node:crypto'
import { CredregError } from './errors.js'
import { DATA_KEY_BYTES } from './seal.js'
import { readSecretFile, writeNewSecretFile } from './secret-file.js'

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
  await writeNewSecretFile(path, randomBytes(DATA_KEY_BYTES))
}
