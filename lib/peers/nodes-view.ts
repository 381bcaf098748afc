/**
 * `GET /v1/nodes`: this node (from its own status) plus every peer from the
 * heartbeat table, alive or gone; with a key, the version each one holds
 * (this node's read locally, the alive peers' gathered over NATS).
 */
import type { DaemonInfo, NodesView } from '../http/context.js'
import type { NodeRow } from '../http/schemas.js'
import type { CredregNode } from '../types.js'
import type { Heartbeat } from './heartbeat.js'
import { heldVersion, type KeyQueries } from './key-query.js'

/** How long a `?key=` query waits for peers that do not answer. */
export const KEY_QUERY_WAIT_MS = 1000

/** Where the peers come from in cluster mode; absent standalone. */
export interface PeerSource {
  heartbeat: Heartbeat
  queries: KeyQueries
}

export class DaemonNodesView implements NodesView {
  readonly #node: CredregNode
  readonly #info: DaemonInfo
  #peers: PeerSource | undefined

  constructor (node: CredregNode, info: DaemonInfo) {
    this.#node = node
    this.#info = info
  }

  /** Connects the view to the heartbeat table once NATS is reachable (or detaches it with `undefined`). */
  attach (peers: PeerSource | undefined): void {
    this.#peers = peers
  }

  async list (key?: string): Promise<NodeRow[]> {
    const s = await this.#node.nodeStatus()
    const peers = this.#peers?.heartbeat.peers() ?? []
    const [own, answers] = key === undefined
      ? [undefined, new Map<string, number>()]
      : await Promise.all([
        heldVersion(this.#node, key),
        this.#peers === undefined ? new Map<string, number>() : this.#peers.queries.ask(key, this.#peers.heartbeat.alive(), KEY_QUERY_WAIT_MS)
      ])
    const top = Math.max(s.logSeq, s.appliedSeq, ...peers.map(p => Math.max(p.logSeq, p.appliedSeq)))
    const now = Date.now()
    const rows: NodeRow[] = [{
      nodeId: s.nodeId,
      hostname: this.#info.hostname,
      state: 'alive',
      appliedSeq: s.appliedSeq,
      lag: top - s.appliedSeq,
      lastSeenS: 0,
      version: this.#info.version,
      startedAt: this.#info.startedAt.toISOString(),
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
}
