/** `credreg patch KEY OPS_JSON [--merge] [--if-version N]`: an RFC 6902 JSON Patch, or an RFC 7396 merge patch. */
import type { JsonObject, PatchOperation } from '../../types.js'
import type { CommandContext } from '../context.js'
import { readJson } from '../input.js'

export interface PatchInput {
  key: string
  ops?: string
  file?: string
  merge?: boolean
  ifVersion?: number
}

export async function run (ctx: CommandContext, input: PatchInput): Promise<void> {
  const patch = await readJson({ text: input.ops, file: input.file }, ctx.io.stdin, 'patch')
  const options = input.ifVersion !== undefined ? { ifVersion: input.ifVersion } : {}
  const client = await ctx.client()
  // The daemon judges the patch (PATCH_FAILED): the same rules as for every other client.
  const result = input.merge === true
    ? await client.merge(input.key, patch as JsonObject, options)
    : await client.patch(input.key, patch as PatchOperation[], options)
  ctx.out.written(result)
}
