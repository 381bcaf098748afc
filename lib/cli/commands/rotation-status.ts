/**
 * `credreg rotation status ID`: where a rotation stands: its status, its
 * changes (each key's version built on and the one it becomes), and each host
 * it waits for: acknowledged ok, failed or silent, whether it holds the staged
 * values (yes, no, ? when not heard of), what it said.
 */
import type { CommandContext } from '../context.js'
import { changesTable, hostsTable, rotationFields } from '../rotation-output.js'

export interface RotationStatusInput {
  id: string
}

export async function run (ctx: CommandContext, { id }: RotationStatusInput): Promise<void> {
  const rotation = await (await ctx.client()).rotation(id)
  ctx.out.result(rotation, () => {
    rotationFields(ctx.out, rotation)
    ctx.out.line('')
    changesTable(ctx.out, rotation)
    ctx.out.line('')
    hostsTable(ctx.out, rotation)
  })
}
