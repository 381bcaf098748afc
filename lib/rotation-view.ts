/** A rotation as the register reports it (lib/shapes/rotation.ts), from what a replica holds of it. */
import type { StoredRotation } from './replica/store.js'
import type { Rotation } from './shapes/rotation.js'

/**
 * The public view of `stored`. `holds` says whether a host has applied the
 * stage (the daemon knows from its peers' heartbeats); without it, unknown.
 */
export function rotationOf (stored: StoredRotation, holds?: (nodeId: string) => boolean | undefined): Rotation {
  const { closed } = stored
  return {
    id: stored.id,
    status: stored.status,
    seq: stored.seq,
    stagedAt: stored.meta.updatedAt,
    stagedBy: stored.meta.nodeId,
    changes: stored.changes.map(c => ({ key: c.key, version: c.version, builtOn: c.version - 1, op: c.op })),
    hosts: stored.hosts.map(nodeId => {
      const ack = stored.acks[nodeId]
      const held = holds?.(nodeId) ?? (ack !== undefined ? true : undefined)
      return {
        nodeId,
        ack: ack === undefined ? 'silent' : ack.ok ? 'ok' : 'failed',
        ...(ack?.message !== undefined ? { message: ack.message } : {}),
        ...(ack !== undefined ? { ackedAt: ack.at } : {}),
        ...(held !== undefined ? { holds: held } : {})
      }
    }),
    ...(stored.deadline !== undefined ? { deadline: stored.deadline } : {}),
    ...(closed !== undefined
      ? {
          closed: {
            seq: closed.seq,
            at: closed.meta.updatedAt,
            by: closed.meta.nodeId,
            ...(closed.forced !== undefined ? { forced: closed.forced } : {}),
            ...(closed.reason !== undefined ? { reason: closed.reason } : {})
          }
        }
      : {})
  }
}
