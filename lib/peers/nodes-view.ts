/**
 * The nodes of a namespace as one node knows them (`GET /v1/nodes`,
 * `credreg nodes`, `peers.nodes()`): this node, from its own status, plus
 * every peer of the heartbeat table, alive or gone; with a key, the version
 * each one holds (this node's read locally, the alive peers' gathered over
 * NATS).
 */
import type { NodeRow } from '../shapes/node-row.js'
import type { CredregNode } from '../types.js'
import type { Heartbeat, SelfInfo } from './heartbeat.js'
import { heldVersion, type KeyQueries } from './key-query.js'

/** How long a query with a key waits for peers that do not answer. */
export const KEY_QUERY_WAIT_MS = 1000

/** The nodes of the namespace, as one node knows them. */
export interface NodesView {
  /** Every node heard from, this one first; with `key`, the version of it each one holds. */
  nodes: (key?: string) => Promise<NodeRow[]>
}

/** Where the peers come from in cluster mode, once NATS is reachable. */
export interface PeerSource {
  heartbeat: Heartbeat
  queries: KeyQueries
}

/** The view of a node without peers (standalone): itself only. */
export function soloNodes (node: CredregNode, self: SelfInfo): NodesView {
  return { nodes: async key => await listNodes(node, self, undefined, key) }
}

/** The rows of `node` (described by `self`) and of every peer of `source`; only its own without a source. */
export async function listNodes (node: CredregNode, self: SelfInfo, source: PeerSource | undefined, key?: string): Promise<NodeRow[]> {
  const s = await node.nodeStatus()
  const peers = source?.heartbeat.peers() ?? []
  const [own, answers] = key === undefined
    ? [undefined, new Map<string, number>()]
    : await Promise.all([
      heldVersion(node, key),
      source === undefined ? new Map<string, number>() : source.queries.ask(key, source.heartbeat.alive(), KEY_QUERY_WAIT_MS)
    ])
  const top = Math.max(s.logSeq, s.appliedSeq, ...peers.map(p => Math.max(p.logSeq, p.appliedSeq)))
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
      lastSeenS: Math.round((now - p.lastSeen) / 100) / 10,
      version: p.version,
      startedAt: p.startedAt,
      ...(key !== undefined ? { keyVersion: answers.get(p.nodeId) ?? null } : {})
    })
  }
  return rows
}
