/** `credreg delete KEY [--if-version N]`: writes a delete (tombstone) version. */
import type { CommandContext } from '../context.js'

export interface DeleteInput {
  key: string
  ifVersion?: number
}

export async function run (ctx: CommandContext, { key, ifVersion }: DeleteInput): Promise<void> {
  ctx.out.written(await (await ctx.client()).delete(key, ifVersion !== undefined ? { ifVersion } : {}))
}
