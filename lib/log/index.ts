/**
 * The change log of a node, chosen by its options: a JetStream stream when
 * NATS is configured (one log shared by every node of the namespace), else
 * the embedded log in the node's own database (standalone). What the chosen
 * log can do is in its `supports` manifest, never in its class.
 */
import type { Authenticator } from '../authenticator.js'
import type { Logger, NatsOptions } from '../types.js'
import type { AbstractLog } from './abstract-log.js'
import { JetStreamLog } from './jetstream-log.js'
import { LocalLog, type LocalLogOptions } from './local-log.js'

/** Options of {@link createLog}. */
export interface CreateLogOptions {
  /** The node's LevelDB: the embedded log lives in it when there is no `nats`; the caller opens and closes it. */
  db: LocalLogOptions['db']
  /** The NATS server(s) of a shared log; absent: the embedded log. */
  nats?: NatsOptions
  namespace: string
  /** Records kept per key. */
  maxPerKey: number
  /** Tags and verifies a shared log's identity record. */
  authenticator: Authenticator
  /** Largest serialized value a node writes: bounds a shared log's largest message when this node creates it. */
  maxValueBytes: number
  /** Stamp the records a shared log reads with its time of them (for stage timings); the embedded log keeps none. */
  timestamps?: boolean
  logger?: Logger
}

/** A new, unopened change log for `options`. */
export function createLog (options: CreateLogOptions): AbstractLog {
  const { nats } = options
  if (nats === undefined) return new LocalLog({ db: options.db, maxPerKey: options.maxPerKey })
  return new JetStreamLog({
    nats,
    namespace: options.namespace,
    maxPerKey: options.maxPerKey,
    replicas: nats.replicas ?? 1,
    authenticator: options.authenticator,
    maxValueBytes: options.maxValueBytes,
    ...(nats.maxBytes !== undefined ? { maxBytes: nats.maxBytes } : {}),
    ...(options.timestamps === true ? { timestamps: true } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {})
  })
}

export { AbstractLog, StaleAppendError } from './abstract-log.js'
export type { AppendOptions, LogEntry, LogInfo, LogManifest, ReseedFrom, TransactionAppendOptions } from './abstract-log.js'
