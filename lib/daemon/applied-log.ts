/**
 * Follows the changes the local replica applies — its own writes and every
 * other host's — to log each one with its correlation id and feed the
 * apply-lag metric.
 */
import type { Metrics } from '../http/metrics.js'
import type { CredregNode, Logger } from '../types.js'

/** Starts following; resolves when `signal` aborts or the node closes. */
export async function followApplied (node: CredregNode, metrics: Metrics, logger: Logger, signal: AbortSignal): Promise<void> {
  try {
    for await (const change of node.watch('', { signal })) {
      metrics.applied(change)
      if (change.op === 'resync') continue
      const { correlationId, nodeId } = change.meta
      logger.info({ correlationId, key: change.key, version: change.version, seq: change.seq, op: change.op, writer: nodeId }, 'change applied')
    }
  } catch (err) {
    if (!signal.aborted && node.status === 'open') logger.error({ err }, 'following applied changes failed')
  }
}
