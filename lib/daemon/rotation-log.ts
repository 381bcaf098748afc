/**
 * Logs each rotation event the local replica applies (its own decisions and
 * every other host's) and counts the acknowledgements in the metrics. It runs
 * in the replica's `rotations` event, synchronously, so it never falls behind.
 */
import type { Logger } from 'pino'
import type { Metrics } from '../http/metrics.js'
import { onRotationEvents } from '../node.js'
import type { CredregNode } from '../types.js'

/** Starts logging; returns the function that stops it. */
export function logRotations (node: CredregNode, metrics: Metrics, logger: Logger): () => void {
  return onRotationEvents(node, events => {
    for (const { event, rotation, seq, nodeId, ok, message, forced } of events) {
      if (event === 'acked') metrics.rotationAck(ok === true)
      logger.info({ rotation, seq, writer: nodeId, ...(ok !== undefined ? { ok } : {}), ...(forced !== undefined ? { forced } : {}), ...(message !== undefined ? { message } : {}) }, `rotation ${event}`)
    }
  })
}
