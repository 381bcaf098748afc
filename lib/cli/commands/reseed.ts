/**
 * `credreg admin reseed`: restores the change log from the daemon's replica
 * after NATS lost its JetStream store. Only a daemon that refuses the log
 * (status: diverged) does it; the other daemons of the same history then
 * adopt the new log by themselves and add what they hold that is newer.
 * It goes to the daemon's admin socket.
 */
import type { CommandContext } from '../context.js'

export async function run (ctx: CommandContext): Promise<void> {
  const client = await ctx.adminClient()
  if (!ctx.out.json) ctx.io.stderr.write('reseeding the change log from this daemon\'s replica (this takes as long as the replica is large)…\n')
  const r = await client.reseed()
  ctx.out.result(r, () => ctx.out.fields([
    ['log', r.identity],
    ['continues', r.previous],
    ['keys compared', r.keys],
    ['versions written', r.versions],
    ['writes resume after seq', r.rebaseUntil]
  ]))
}
