/**
 * `credreg ack ID [--fail MESSAGE | --message TEXT]`: this host's daemon
 * acknowledges the rotation, ok (with an optional note) or failed with what
 * its check said; prints where the acknowledgements stand.
 */
import type { CommandContext } from '../context.js'
import { ackSummary } from '../rotation-output.js'

export interface AckInput {
  id: string
  fail?: string
  message?: string
}

export async function run (ctx: CommandContext, { id, fail, message }: AckInput): Promise<void> {
  const ok = fail === undefined
  const said = fail ?? message
  const rotation = await (await ctx.client()).ack(id, { ok, ...(said !== undefined ? { message: said } : {}) })
  ctx.out.result(rotation, () => ctx.out.line(`rotation ${rotation.id}: acknowledged ${ok ? 'ok' : 'failed'}; ${ackSummary(rotation)}`))
}
