/** `credreg put KEY [JSON | --file PATH | -] [--if-version N | --if-absent]`: writes a new version. */
import { CredregError } from '../../errors.js'
import type { JsonObject } from '../../types.js'
import type { CommandContext } from '../context.js'
import { readJson } from '../input.js'

export interface PutInput {
  key: string
  value?: string
  file?: string
  ifVersion?: number
  ifAbsent?: boolean
}

export async function run (ctx: CommandContext, input: PutInput): Promise<void> {
  const value = await readJson({ text: input.value, file: input.file }, ctx.io.stdin, 'value')
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CredregError('INVALID_VALUE', `the value must be a JSON object, not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, { key: input.key })
  }
  const options = { ...(input.ifVersion !== undefined ? { ifVersion: input.ifVersion } : {}), ...(input.ifAbsent === true ? { ifAbsent: true } : {}) }
  ctx.out.written(await (await ctx.client()).put(input.key, value as JsonObject, options))
}
