/** `credreg rotations`: the open rotations, oldest first: id, when and by whom staged, keys, acknowledgements, deadline. */
import type { CommandContext } from '../context.js'
import { ackSummary } from '../rotation-output.js'

export async function run (ctx: CommandContext): Promise<void> {
  const rotations = await (await ctx.client()).rotations()
  ctx.out.result(rotations, () => ctx.out.table(
    ['ROTATION', 'STAGED', 'BY', 'KEYS', 'ACKS', 'DEADLINE'],
    rotations.map(r => [r.id, r.stagedAt, r.stagedBy, r.changes.map(c => c.key).join(' '), ackSummary(r), r.deadline ?? ''])
  ))
}
