/**
 * The peers of a node in cluster mode: it writes its membership record to the
 * namespace's membership stream every interval and, when asked, reads
 * everyone's to list them, with the version of a key each one holds told from
 * its applied sequence. The daemon runs one per host; an app embedding a node
 * can run one over its own NATS connection, and is then listed by the
 * daemons and other nodes of its namespace like any of them.
 */
import { hostname } from 'node:os'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/nats-core'
import type { NodeRow } from '../shapes/node-row.js'
import { authenticatorOf } from '../node.js'
import type { CredregNode, Logger } from '../types.js'
import { credregVersion } from '../version.js'
import { Heartbeat, type SelfInfo } from './heartbeat.js'
import { IgnoredMessages, type IgnoreReason, type PeerMessageKind } from './ignored-messages.js'
import { MemberDirectory } from './member-directory.js'
import { listNodes, type NodesView } from './nodes-view.js'

/** The heartbeat interval when none is given (the daemon's `--heartbeat-ms` default). */
export const DEFAULT_HEARTBEAT_MS = 5000

/** How long a JetStream API call of the peers waits for its answer. */
const API_TIMEOUT_MS = 2000

/** Options of {@link startPeers}. */
export interface PeersOptions {
  /** A node opened by `openNode`: its namespace key tags this node's messages and checks the peers'. */
  node: CredregNode
  /**
   * The connection the membership records go over (the JetStream stream
   * `CREDREG-MEMBERS_<namespace>`, subjects `credreg.<namespace>.m.<node>`,
   * created by the first node when missing). It stays the caller's: `close()`
   * leaves it open. A promise of one is waited for (until
   * then only this node is listed); if it resolves `undefined`, peering never
   * starts.
   */
  nc: NatsConnection | Promise<NatsConnection | undefined>
  /** Replicas of the membership stream, should this node create it (default 1). */
  replicas?: number
  /** What this node's heartbeats and its own row say of it. Defaults: the host name, credreg's version, the time of the call. */
  self?: Partial<SelfInfo>
  /**
   * Interval of the heartbeats in ms (default 5000). A peer is shown `gone`
   * after 3 intervals of the reader's without a record, and the stream keeps
   * records 63 intervals of the node's that created it, so every node of a
   * namespace should use the same.
   */
  intervalMs?: number
  /** Receives structured log lines (peers new, restarted or gone silent since the last read); silent when absent. */
  logger?: Logger
  /** Called for each membership record ignored when read (oversized, malformed, another version, forged, stale, table full): a metric's counter. */
  onIgnored?: (kind: PeerMessageKind, reason: IgnoreReason) => void
}

/** A running peer room: the node's heartbeats, and the nodes of the membership stream. */
export interface Peers extends NodesView, AsyncDisposable {
  /**
   * Every node of the membership stream, this one first, alive or `gone`,
   * with its progress and lag, read at most a second before (or an interval,
   * if shorter); with `key`, the version of it each one holds, told from its
   * applied sequence and this node's history of the key (`null` when that
   * history no longer reaches back far enough).
   */
  nodes: (key?: string) => Promise<NodeRow[]>
  /** Stops the heartbeats; the connection stays open. Idempotent; afterwards only this node is listed. */
  close: () => Promise<void>
}

/**
 * Starts writing this node's heartbeats (a first one at once, creating the
 * membership stream if it is missing). Throws a `TypeError` for a node
 * not opened by `openNode`, an interval that is not a positive integer or
 * replicas not from 1 to 5.
 */
export function startPeers (options: PeersOptions): Peers {
  return new PeerRoom(options)
}

const SILENT: Logger = { debug () {}, info () {}, warn () {}, error () {} }

/** What the peers run on, once NATS is reachable. */
interface PeerSource {
  heartbeat: Heartbeat
  directory: MemberDirectory
}

class PeerRoom implements Peers {
  readonly #node: CredregNode
  readonly #self: SelfInfo
  readonly #start: (nc: NatsConnection) => Promise<PeerSource>
  #source: PeerSource | undefined
  #closed = false

  constructor (o: PeersOptions) {
    const intervalMs = o.intervalMs ?? DEFAULT_HEARTBEAT_MS
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new TypeError('intervalMs must be a positive integer')
    if (o.replicas !== undefined && (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 5)) throw new TypeError('replicas must be an integer from 1 to 5')
    const authenticator = authenticatorOf(o.node)
    const logger = o.logger ?? SILENT
    const ignored = new IgnoredMessages({ logger, ...(o.onIgnored !== undefined ? { count: o.onIgnored } : {}) })
    this.#node = o.node
    this.#self = { hostname: o.self?.hostname ?? hostname(), version: o.self?.version ?? credregVersion(), startedAt: o.self?.startedAt ?? new Date() }
    const self = this.#self
    const { node, replicas } = o
    this.#start = async nc => {
      const js = jetstream(nc)
      // A read while NATS is away gives up after this, and the peers are listed as last read.
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: API_TIMEOUT_MS })
      return {
        heartbeat: new Heartbeat({ js, jsm, node, authenticator, self, intervalMs, logger, ...(replicas !== undefined ? { replicas } : {}) }),
        directory: new MemberDirectory({ js, jsm, namespace: node.namespace, nodeId: node.nodeId, authenticator, intervalMs, logger, ignored })
      }
    }
    Promise.resolve(o.nc).then(async nc => { if (nc !== undefined) await this.#attach(nc) })
      .catch((err: unknown) => logger.error({ err }, 'peers not started'))
  }

  async nodes (key?: string): Promise<NodeRow[]> {
    return await listNodes(this.#node, this.#self, this.#source?.directory, key)
  }

  async close (): Promise<void> {
    this.#closed = true
    const source = this.#source
    this.#source = undefined
    await source?.heartbeat.close()
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }

  async #attach (nc: NatsConnection): Promise<void> {
    if (this.#closed) return
    const source = await this.#start(nc)
    if (this.#closed) await source.heartbeat.close()
    else this.#source = source
  }
}
