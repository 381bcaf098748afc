/** `credreg ls [PREFIX]`: every live key under PREFIX with its version and last update, all pages. */
import type { ListItem } from '../../types.js'
import type { CommandContext } from '../context.js'

export interface LsInput {
  prefix: string
}

const PAGE = 1000

export async function run (ctx: CommandContext, { prefix }: LsInput): Promise<void> {
  const client = await ctx.client()
  const items: ListItem[] = []
  let after: string | undefined
  do {
    const page = await client.list(prefix, { limit: PAGE, ...(after !== undefined ? { after } : {}) })
    items.push(...page.items)
    after = page.next
  } while (after !== undefined)
  ctx.out.result(items, () => ctx.out.table(['KEY', 'VERSION', 'UPDATED'], items.map(i => [i.key, i.version, i.updatedAt])))
}
