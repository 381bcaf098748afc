/**
 * `credreg admin token create --name N [--read P,…] [--write P,…] [--rotations] --out FILE`:
 * the daemon mints the token and keeps only its hash; the CLI writes it to
 * FILE (created first, mode 0600, never over an existing file, so a token
 * is never minted for a file that cannot take it) and prints its name and
 * scope, never the token.
 */
import { open, rm, type FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CredregError } from '../../../errors.js'
import type { CommandContext } from '../../context.js'
import { scopeFields } from './token-list.js'

export interface TokenCreateInput {
  name: string
  read?: string[]
  write?: string[]
  rotations?: boolean
  out: string
}

export async function run (ctx: CommandContext, { name, read = [], write = [], rotations = false, out }: TokenCreateInput): Promise<void> {
  const client = await ctx.adminClient()
  const path = resolve(out)
  let file: FileHandle
  try {
    file = await open(path, 'wx', 0o600)
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST'
    throw new CredregError('INVALID_CONFIG', exists ? `${path} already exists; refusing to overwrite it` : `cannot create ${path}: ${(cause as Error).message}`, { cause })
  }
  let created
  try {
    created = await client.createToken({ name, read, write, rotations })
    await file.writeFile(created.token + '\n')
    await file.sync()
  } catch (err) {
    await file.close()
    await rm(path, { force: true })
    // The daemon holds a token nobody has: it goes again.
    if (created !== undefined) await client.revokeToken(created.name).catch(() => {})
    throw err
  }
  await file.close()
  const { token: _told, ...info } = created
  ctx.out.result({ ...info, file: path }, () => {
    ctx.out.fields([...scopeFields(info), ['file', `${path} (mode 0600)`]])
  })
}
