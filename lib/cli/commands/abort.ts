/** `credreg abort ID [--reason TEXT]`: closes the rotation without releasing it; its keys may be staged again. */
import type { CommandContext } from '../context.js'

export interface AbortInput {
  id: string
  reason?: string
}

export async function run (ctx: CommandContext, { id, reason }: AbortInput): Promise<void> {
  const rotation = await (await ctx.client()).abort(id, reason !== undefined ? { reason } : {})
  ctx.out.result(rotation, () => ctx.out.line(`rotation ${rotation.id} aborted at sequence ${rotation.closed?.seq ?? '?'}`))
}
