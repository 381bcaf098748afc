/**
 * The peers of a node in cluster mode: it publishes heartbeats and answers
 * key-version queries on core NATS, keeps the table of the nodes it hears
 * from and lists them. The daemon runs one per host; an app embedding a node
 * can run one over its own NATS connection, and is then listed by the
 * daemons and other nodes of its namespace like any of them.
 */
import { hostname } from 'node:os'
import type { NatsConnection } from '@nats-io/nats-core'
import type { NodeRow } from '../shapes/node-row.js'
import { authenticatorOf } from '../node.js'
import type { CredregNode, Logger } from '../types.js'
import { credregVersion } from '../version.js'
import { Heartbeat, type SelfInfo } from './heartbeat.js'
import { IgnoredMessages, type IgnoreReason, type PeerMessageKind } from './ignored-messages.js'
import { KeyQueries } from './key-query.js'
import { listNodes, type NodesView, type PeerSource } from './nodes-view.js'

/** The heartbeat interval when none is given (the daemon's `--heartbeat-ms` default). */
export const DEFAULT_HEARTBEAT_MS = 5000

/** Options of {@link startPeers}. */
export interface PeersOptions {
  /** A node opened by `openNode`: its namespace key tags this node's messages and checks the peers'. */
  node: CredregNode
  /**
   * The connection heartbeats and key queries go over (core NATS: the subjects
   * `credreg.<namespace>.hb` and `credreg.<namespace>.q.version`). It stays the
   * caller's: `close()` leaves it open. A promise of one is waited for (until
   * then only this node is listed); if it resolves `undefined`, peering never
   * starts.
   */
  nc: NatsConnection | Promise<NatsConnection | undefined>
  /** What this node's heartbeats and its own row say of it. Defaults: the host name, credreg's version, the time of the call. */
  self?: Partial<SelfInfo>
  /**
   * Interval of the heartbeats in ms (default 5000). A peer is shown `gone`
   * after 3 intervals of the listener's without a heartbeat, so every node of
   * a namespace should use the same.
   */
  intervalMs?: number
  /** Receives structured log lines (new, restarted and silent peers); silent when absent. */
  logger?: Logger
  /** Called for each peer message ignored (oversized, malformed, another version, forged, replayed, stale, table full): a metric's counter. */
  onIgnored?: (kind: PeerMessageKind, reason: IgnoreReason) => void
}

/** A running peer room: the node's heartbeats, its answers to key queries, and the nodes it heard from. */
export interface Peers extends NodesView, AsyncDisposable {
  /**
   * Every node heard from, this one first, alive or `gone`, with its progress
   * and lag; with `key`, the version of it each one holds (this node's read
   * locally; a peer that does not answer within 1 s shows `null`).
   */
  nodes: (key?: string) => Promise<NodeRow[]>
  /** Stops the heartbeats and the answers; the connection stays open. Idempotent; afterwards only this node is listed. */
  close: () => Promise<void>
}

/**
 * Starts publishing this node's heartbeats (a first one at once), listening to
 * its peers' and answering their key queries. Throws a `TypeError` for a node
 * not opened by `openNode` or an interval that is not a positive integer.
 */
export function startPeers (options: PeersOptions): Peers {
  return new PeerRoom(options)
}

const SILENT: Logger = { debug () {}, info () {}, warn () {}, error () {} }

class PeerRoom implements Peers {
  readonly #node: CredregNode
  readonly #self: SelfInfo
  readonly #start: (nc: NatsConnection) => PeerSource
  #source: PeerSource | undefined
  #closed = false

  constructor (o: PeersOptions) {
    const intervalMs = o.intervalMs ?? DEFAULT_HEARTBEAT_MS
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new TypeError('intervalMs must be a positive integer')
    const authenticator = authenticatorOf(o.node)
    const logger = o.logger ?? SILENT
    const ignored = new IgnoredMessages({ logger, ...(o.onIgnored !== undefined ? { count: o.onIgnored } : {}) })
    this.#node = o.node
    this.#self = { hostname: o.self?.hostname ?? hostname(), version: o.self?.version ?? credregVersion(), startedAt: o.self?.startedAt ?? new Date() }
    const self = this.#self
    this.#start = nc => ({
      heartbeat: new Heartbeat({ nc, node: o.node, authenticator, self, intervalMs, logger, ignored }),
      queries: new KeyQueries({ nc, node: o.node, authenticator, logger, ignored })
    })
    if (o.nc instanceof Promise) {
      o.nc.then(nc => { if (nc !== undefined) this.#attach(nc) })
        .catch((err: unknown) => logger.error({ err }, 'peers not started'))
    } else {
      this.#attach(o.nc)
    }
  }

  async nodes (key?: string): Promise<NodeRow[]> {
    return await listNodes(this.#node, this.#self, this.#source, key)
  }

  async close (): Promise<void> {
    this.#closed = true
    const source = this.#source
    this.#source = undefined
    source?.queries.close()
    await source?.heartbeat.close()
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }

  #attach (nc: NatsConnection): void {
    if (!this.#closed) this.#source = this.#start(nc)
  }
}
