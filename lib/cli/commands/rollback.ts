/**
 * `credreg rollback KEY --to N [--if-version M]`: writes the value of version
 * N as a new version. The write is conditional on M, else on the latest
 * version as read just before, so a change made in between fails the
 * rollback (VERSION_CONFLICT) rather than being silently overwritten.
 */
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface RollbackInput {
  key: string
  to: number
  ifVersion?: number
}

export async function run (ctx: CommandContext, { key, to, ifVersion }: RollbackInput): Promise<void> {
  const client = await ctx.client()
  const [target, latest] = await Promise.all([
    client.get(key, { version: to }),
    ifVersion === undefined ? client.history(key).then(h => h.at(-1)?.version ?? 0) : ifVersion
  ])
  if (target.value === undefined) throw new CredregError('BAD_REQUEST', `${key} version ${to} is a delete; there is no value to restore (use credreg delete)`, { key })
  ctx.out.written(await client.put(key, target.value, { ifVersion: latest }))
}
