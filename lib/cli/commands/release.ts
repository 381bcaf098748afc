/**
 * `credreg release ID [--force]`: makes every staged change of the rotation
 * current, as one changeset; prints `KEY version N` per key. Refused (exit 3,
 * `ROTATION_REFUSED`) with the reason: hosts missing or failed, a key moved, closed.
 */
import type { CommandContext } from '../context.js'

export interface ReleaseInput {
  id: string
  force?: boolean
}

export async function run (ctx: CommandContext, { id, force }: ReleaseInput): Promise<void> {
  const rotation = await (await ctx.client()).release(id, force === true ? { force } : {})
  ctx.out.result(rotation, () => {
    for (const { key, version } of rotation.changes) ctx.out.line(`${key} version ${version}`)
    ctx.out.note(`rotation ${rotation.id} released at sequence ${rotation.closed?.seq ?? '?'}${rotation.closed?.forced === true ? ' (forced)' : ''}`)
  })
}
