/**
 * Logs each change the local replica applies — its own writes and every other
 * host's — with its correlation id, and feeds the apply-lag metric. It runs in
 * the replica's `applied` event: it reads only the records' metadata, opens no
 * value and buffers nothing, so it can never fall behind the apply loop.
 */
import type { Metrics } from '../http/metrics.js'
import { onApplied } from '../node.js'
import type { CredregNode, Logger } from '../types.js'

/** Starts logging; returns the function that stops it. */
export function logApplied (node: CredregNode, metrics: Metrics, logger: Logger): () => void {
  return onApplied(node, changes => {
    for (const { key, stored } of changes) {
      const { correlationId, nodeId } = stored.meta
      logger.info({ correlationId, key, version: stored.version, seq: stored.seq, op: stored.op, writer: nodeId }, 'change applied')
    }
    const last = changes.at(-1)
    if (last !== undefined) metrics.applied(last.stored.meta.updatedAt)
  })
}
