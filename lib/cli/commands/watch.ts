/**
 * `credreg watch [PREFIX] [--since SEQ]`: one JSON change event per line
 * (NDJSON) until SIGINT or SIGTERM. The daemon must answer at the start;
 * after that the client reconnects by itself and resumes where it stopped.
 */
import type { CommandContext } from '../context.js'

export interface WatchInput {
  prefix: string
  since?: number
}

export async function run (ctx: CommandContext, { prefix, since }: WatchInput): Promise<void> {
  const client = await ctx.client()
  const signal = ctx.interrupted()
  // Reading the start position here, not in the client, makes an absent daemon fail the command at once.
  const from = since ?? (await client.status()).appliedSeq
  ctx.out.note(`watching ${prefix === '' ? 'every key' : `keys under ${JSON.stringify(prefix)}`} after sequence ${from}; Ctrl-C to stop`)
  for await (const change of client.watch(prefix, { since: from, signal })) ctx.out.data(change)
}
