/** `credreg versions KEY`: the retained versions of KEY, oldest first, with who wrote them and what changed. */
import type { PatchOperation } from '../../types.js'
import type { CommandContext } from '../context.js'

export interface VersionsInput {
  key: string
}

export async function run (ctx: CommandContext, { key }: VersionsInput): Promise<void> {
  const versions = await (await ctx.client()).history(key)
  ctx.out.result(versions, () => ctx.out.table(
    ['VERSION', 'SEQ', 'OP', 'UPDATED', 'NODE', 'CORRELATION', 'CHANGED'],
    versions.map(v => [v.version, v.seq, v.op, v.meta.updatedAt, v.meta.nodeId, v.meta.correlationId, changedPaths(v.patch)])
  ))
}

/** The paths a patch touches, each once, in order. */
function changedPaths (patch: PatchOperation[]): string {
  return [...new Set(patch.map(op => op.path === '' ? '/' : op.path))].join(' ')
}
