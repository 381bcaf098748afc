/**
 * The nodes of a namespace as one node knows them (`GET /v1/nodes`,
 * `credreg nodes`, `peers.nodes()`): this node, from its own status, plus
 * every peer of the membership stream, alive or gone; with a key, the version
 * each one holds, told from its applied sequence and this node's history of
 * the key (key-versions.ts), without asking anyone.
 */
import type { NodeRow } from '../shapes/node-row.js'
import type { CredregNode } from '../types.js'
import type { SelfInfo } from './heartbeat.js'
import { heldVersion, versionAt, versionsOf } from './key-versions.js'
import type { MemberDirectory } from './member-directory.js'

/** The nodes of the namespace, as one node knows them. */
export interface NodesView {
  /** Every node heard of, this one first; with `key`, the version of it each one holds. */
  nodes: (key?: string) => Promise<NodeRow[]>
}

/** The view of a node without peers (standalone): itself only. */
export function soloNodes (node: CredregNode, self: SelfInfo): NodesView {
  return { nodes: async key => await listNodes(node, self, undefined, key) }
}

/** The rows of `node` (described by `self`) and of every peer of `directory`; only its own without one. */
export async function listNodes (node: CredregNode, self: SelfInfo, directory: MemberDirectory | undefined, key?: string): Promise<NodeRow[]> {
  const [s, peers, own, history] = await Promise.all([
    node.nodeStatus(),
    directory?.peers() ?? [],
    key === undefined ? undefined : heldVersion(node, key),
    key === undefined ? [] : versionsOf(node, key)
  ])
  let top = Math.max(s.logSeq, s.appliedSeq)
  for (const p of peers) top = Math.max(top, p.logSeq, p.appliedSeq)
  const now = Date.now()
  const rows: NodeRow[] = [{
    nodeId: s.nodeId,
    hostname: self.hostname,
    state: 'alive',
    appliedSeq: s.appliedSeq,
    lag: top - s.appliedSeq,
    lastSeenS: 0,
    version: self.version,
    startedAt: self.startedAt.toISOString(),
    ...(own !== undefined ? { keyVersion: own } : {})
  }]
  for (const p of peers) {
    rows.push({
      nodeId: p.nodeId,
      hostname: p.hostname,
      state: p.state,
      appliedSeq: p.appliedSeq,
      lag: top - p.appliedSeq,
      lastSeenS: Math.max(0, Math.round((now - p.lastSeen) / 100) / 10),
      version: p.version,
      startedAt: p.startedAt,
      ...(key !== undefined ? { keyVersion: versionAt(history, p.appliedSeq) } : {})
    })
  }
  return rows
}
