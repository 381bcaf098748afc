/** A rotation as the register reports it (lib/shapes/rotation.ts), from what a replica holds of it. */
import type { StoredRotation } from '../replica/store.js'
import type { Rotation } from '../shapes/rotation.js'

/** Whether a host has applied a rotation's stage, as far as known (`undefined`: not known). */
export type Holds = (nodeId: string) => boolean | undefined

/**
 * The public view of `stored`. `holds` says whether a host has applied the
 * stage (the daemon knows from its peers' heartbeats); without it, unknown.
 */
export function rotationOf (stored: StoredRotation, holds?: Holds): Rotation {
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
      const held = hostHolds(ack !== undefined, holds?.(nodeId))
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

/**
 * `rotation` with each host's `holds` told again from `holds` (what a daemon
 * heard from its peers), by the same rule as {@link rotationOf}.
 */
export function withHolds (rotation: Rotation, holds: Holds): Rotation {
  return {
    ...rotation,
    hosts: rotation.hosts.map(({ holds: _, ...host }) => {
      const held = hostHolds(host.ack !== 'silent', holds(host.nodeId))
      return held === undefined ? host : { ...host, holds: held }
    })
  }
}

// A host that acknowledged had applied the stage (its node judged the ack on a
// replica holding the rotation), whatever an older heartbeat of it says.
function hostHolds (acked: boolean, heard: boolean | undefined): boolean | undefined {
  return acked ? true : heard
}
