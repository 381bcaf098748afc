/**
 * What a daemon knows of the hosts of its namespace, for rotations: who a
 * rotation waits for when the caller names no one (this node and every peer
 * of the membership stream alive), and whether each host holds a rotation's
 * staged values (the sequence it applied, from its membership record; this
 * node's from its own status). Both read the nodes view, which reads the
 * stream at most once a second however often rotations are asked for.
 */
import type { NodesView } from '../peers/nodes-view.js'
import { withHolds } from '../rotations/rotation-view.js'
import type { Rotation } from '../shapes/rotation.js'

/** This node and every peer alive: the hosts a rotation waits for by default. */
export async function defaultHosts (peers: NodesView): Promise<string[]> {
  return (await peers.nodes()).filter(row => row.state === 'alive').map(row => row.nodeId)
}

/** `rotations`, each host's `holds` told from the sequence it was last heard to have applied. */
export async function withHeardHolds (peers: NodesView, rotations: Rotation[]): Promise<Rotation[]> {
  if (rotations.length === 0) return rotations
  const applied = new Map((await peers.nodes()).map(row => [row.nodeId, row.appliedSeq]))
  return rotations.map(rotation => withHolds(rotation, nodeId => {
    const seq = applied.get(nodeId)
    return seq === undefined ? undefined : seq >= rotation.seq
  }))
}
