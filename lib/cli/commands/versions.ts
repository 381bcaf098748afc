/**
 * `credreg versions KEY`: the retained versions of KEY, oldest first, with who
 * wrote them (and, under a policy, the key that verified it) and what
 * changed; a version this host cannot open says why instead; and, when a
 * changeset wrote any of them, which one.
 */
import type { PatchOperation } from '../../types.js'
import type { CommandContext } from '../context.js'
import type { Cell } from '../output.js'
import { shortKey } from '../format.js'

export interface VersionsInput {
  key: string
}

export async function run (ctx: CommandContext, { key }: VersionsInput): Promise<void> {
  const versions = await (await ctx.client()).history(key)
  ctx.out.result(versions, () => {
    const head = ['VERSION', 'SEQ', 'OP', 'UPDATED', 'NODE', 'SIGNER', 'CORRELATION', 'CHANGED']
    const rows: Cell[][] = versions.map(v => [
      v.version, v.seq, v.op, v.meta.updatedAt, v.meta.nodeId, v.meta.signer === undefined ? '-' : shortKey(v.meta.signer), v.meta.correlationId,
      v.unreadable === undefined ? changedPaths(v.patch) : `unreadable: ${v.unreadable}`
    ])
    // Most keys are never written by a changeset: their table stays as narrow as it was.
    if (versions.every(v => v.changeset === undefined)) return ctx.out.table(head, rows)
    ctx.out.table([...head, 'CHANGESET'], rows.map((row, i) => [...row, versions[i]?.changeset?.id ?? '-']))
  })
}

/** The paths a patch touches, each once, in order. */
function changedPaths (patch: PatchOperation[]): string {
  return [...new Set(patch.map(op => op.path === '' ? '/' : op.path))].join(' ')
}
