/**
 * Logs each change the local replica applies — its own writes and every other
 * host's — with its correlation id, and feeds the apply-lag metric. It runs in
 * the replica's `applied` event: it reads only the records' metadata, opens no
 * value and buffers nothing, so it can never fall behind the apply loop.
 */
import type { Logger } from 'pino'
import type { Metrics } from '../http/metrics.js'
import { onApplied } from '../node.js'
import type { CredregNode } from '../types.js'

// A longer run of changes is a catch-up: one line says so, and the changes are logged at debug.
const LINES_PER_RUN = 100

/** Starts logging; returns the function that stops it. */
export function logApplied (node: CredregNode, metrics: Metrics, logger: Logger): () => void {
  return onApplied(node, changes => {
    const last = changes.at(-1)
    if (last === undefined) return
    metrics.applied(last.stored.meta.updatedAt)
    const catchUp = changes.length > LINES_PER_RUN
    if (catchUp) logger.info({ changes: changes.length, firstSeq: changes[0]?.stored.seq, lastSeq: last.stored.seq }, 'changes applied')
    if (catchUp && !logger.isLevelEnabled('debug')) return
    for (const { key, stored } of changes) {
      const { correlationId, nodeId } = stored.meta
      logger[catchUp ? 'debug' : 'info']({ correlationId, key, version: stored.version, seq: stored.seq, op: stored.op, writer: nodeId }, 'change applied')
    }
  })
}
