/** `credreg keygen --out PATH`: a new random 32-byte data key file, mode 0600; never overwrites. */
import { resolve } from 'node:path'
import { writeNewKeyFile } from '../../key-file.js'
import { DATA_KEY_BYTES } from '../../seal.js'
import type { CommandContext } from '../context.js'

export interface KeygenInput {
  out: string
}

export async function run (ctx: CommandContext, { out }: KeygenInput): Promise<void> {
  const path = resolve(out)
  await writeNewKeyFile(path)
  ctx.out.result({ path }, () => ctx.out.line(`wrote a new ${DATA_KEY_BYTES}-byte data key to ${path} (mode 0600); give every daemon of the namespace the same file`))
}
