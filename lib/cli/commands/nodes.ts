/**
 * `credreg nodes [--key KEY]`: every daemon of the namespace as the answering
 * one reads it from the membership stream, alive or gone. With `--key`, the
 * version of KEY each one holds (told from its applied sequence), and which
 * are behind: the answer to "which hosts still have the old password".
 */
import type { NodeInfo } from '../../client/types.js'
import { isCredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'
import { duration } from '../format.js'

export interface NodesInput {
  key?: string
}

/** The latest version of the key the answering daemon knows, and its log sequence. */
interface Latest { version: number, seq: number | undefined }

export async function run (ctx: CommandContext, { key }: NodesInput): Promise<void> {
  const client = await ctx.client()
  const [nodes, history] = await Promise.all([
    client.nodes(key !== undefined ? { key } : {}),
    key === undefined || ctx.out.json ? undefined : client.history(key).catch((err: unknown) => { if (isCredregError(err, 'NOT_FOUND')) return []; throw err })
  ])
  ctx.out.result(nodes, () => {
    const head = ['NODE', 'HOST', 'APPLIED SEQ', 'LAG', 'LAST SEEN', 'CREDREG']
    const rows = nodes.map(n => [n.nodeId, n.hostname, n.appliedSeq, n.lag, lastSeen(n), n.version])
    if (key === undefined || history === undefined) return ctx.out.table(head, rows)
    const newest = history.at(-1)
    const latest: Latest = { version: Math.max(newest?.version ?? 0, ...nodes.map(n => n.keyVersion ?? 0)), seq: newest?.seq }
    if (latest.version > (newest?.version ?? 0)) latest.seq = undefined
    ctx.out.table([...head, 'KEY VERSION', 'STATE'], nodes.map((n, i) => [...rows[i] ?? [], n.keyVersion ?? '?', state(n, latest)]))
  })
}

/** `now`, `3s ago`, or for a peer no longer heard from `gone (1m02s ago)`. */
function lastSeen (node: NodeInfo): string {
  if (node.state === 'gone') return `gone (${duration(node.lastSeenS)} ago)`
  return node.lastSeenS === 0 ? 'now' : `${duration(node.lastSeenS)} ago`
}

/**
 * Whether a node holds the latest version of the key: `current` or `behind`;
 * when its version cannot be told (it is behind the oldest version the
 * answering daemon keeps), from its applied sequence alone.
 */
function state (node: NodeInfo, latest: Latest): string {
  if (node.keyVersion === null || node.keyVersion === undefined) {
    if (latest.seq === undefined) return 'unknown'
    return node.appliedSeq >= latest.seq ? 'current' : 'behind'
  }
  return node.keyVersion >= latest.version ? 'current' : 'behind'
}
