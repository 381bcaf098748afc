/**
 * `credreg get KEY [--version N | --pending] [--field NAME]`: the value as
 * pretty JSON, one field raw, or (`--json`) the whole entity; `--pending`: the
 * value an open rotation stages for KEY instead of the current one.
 */
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface GetInput {
  key: string
  version?: number
  pending?: boolean
  field?: string
}

export async function run (ctx: CommandContext, { key, version, pending, field }: GetInput): Promise<void> {
  const entity = await (await ctx.client()).get(key, version !== undefined ? { version } : pending === true ? { stage: 'pending' } : {})
  if (entity.value === undefined) {
    // A version read from history, or a staged change, that is a delete: there is no value to print.
    ctx.out.result(entity, () => ctx.out.note(`${key} version ${entity.version} is a delete${entity.rotation !== undefined ? `, staged by rotation ${entity.rotation}` : ''}`))
    return
  }
  if (field === undefined) {
    ctx.out.result(entity, () => ctx.out.pretty(entity.value))
    return
  }
  if (!Object.hasOwn(entity.value, field)) throw new CredregError('NOT_FOUND', `${key} version ${entity.version} has no field ${JSON.stringify(field)}`, { key })
  const value = entity.value[field]
  ctx.out.result(value, () => (typeof value === 'string' ? ctx.out.line(value) : ctx.out.pretty(value)))
}
