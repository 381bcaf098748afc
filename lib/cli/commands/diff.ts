/** `credreg diff KEY FROM TO`: the RFC 6902 patch from version FROM to version TO (a delete counts as `{}`). */
import jsonpatch from 'fast-json-patch'
import type { Entity } from '../../types.js'
import type { CommandContext } from '../context.js'

export interface DiffInput {
  key: string
  from: number
  to: number
}

export async function run (ctx: CommandContext, { key, from, to }: DiffInput): Promise<void> {
  const client = await ctx.client()
  const [a, b] = await Promise.all([client.get(key, { version: from }), client.get(key, { version: to })])
  const ops = jsonpatch.compare(valueOf(a), valueOf(b))
  ctx.out.result(ops, () => {
    for (const op of ops) ctx.out.line('value' in op ? `${op.op} ${op.path} ${JSON.stringify(op.value)}` : `${op.op} ${op.path}`)
  })
}

function valueOf (entity: Entity): object {
  return entity.value ?? {}
}
