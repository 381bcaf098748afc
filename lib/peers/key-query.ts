/**
 * "Which version of key K does each node hold?" as a scatter-gather request
 * on the core NATS subject `credreg.<namespace>.q.version`: every node
 * answers an authenticated question with the version of K in its own
 * replica, in an answer bound to that question (key-query-record.ts).
 */
import { randomBytes } from 'node:crypto'
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/nats-core'
import type { Authenticator } from '../authenticator.js'
import { isCredregError } from '../errors.js'
import type { CredregNode, Logger } from '../types.js'
import type { IgnoredMessages } from './ignored-messages.js'
import { keyQuerySubject, readAnswer, readQuestion, signAnswer, signQuestion } from './key-query-record.js'
import { RecentIds } from './recent-ids.js'

/** Question ids remembered to refuse a replayed question; genuine questions are rare (one per `nodes --key`). */
const REMEMBERED_QUESTIONS = 4096

/**
 * The version of `key` in the node's replica: the latest (a tombstone counts,
 * since it is what the node holds), or 0 for a key it never saw.
 */
export async function heldVersion (node: CredregNode, key: string): Promise<number> {
  try {
    return (await node.get(key)).version
  } catch (err) {
    if (!isCredregError(err, 'NOT_FOUND')) throw err
  }
  try {
    return (await node.history(key)).at(-1)?.version ?? 0
  } catch (err) {
    if (isCredregError(err, 'NOT_FOUND')) return 0
    throw err
  }
}

/** Options of {@link KeyQueries}. */
export interface KeyQueriesOptions {
  nc: NatsConnection
  node: CredregNode
  authenticator: Authenticator
  logger: Logger
  ignored: IgnoredMessages
}

/** Answers the key queries of other nodes, and asks its own. */
export class KeyQueries {
  readonly #o: KeyQueriesOptions
  readonly #sub: Subscription
  readonly #answered = new RecentIds(REMEMBERED_QUESTIONS)

  /** Starts answering. */
  constructor (options: KeyQueriesOptions) {
    this.#o = options
    const { nc, node, authenticator, logger, ignored } = options
    this.#sub = nc.subscribe(keyQuerySubject(node.namespace), {
      callback: (err, msg) => {
        if (err !== null) return
        const read = readQuestion(authenticator, node.namespace, msg.data, msg.reply)
        if ('ignored' in read) return ignored.note('key-query', read.ignored)
        const q = read.record
        if (q.from === node.nodeId) return
        if (!this.#answered.add(q.id)) return ignored.note('key-query', 'replayed')
        heldVersion(node, q.key)
          .then(version => msg.respond(JSON.stringify(signAnswer(authenticator, q, node.nodeId, version))))
          .catch((e: unknown) => logger.debug({ err: e, key: q.key }, 'cannot answer a key query'))
      }
    })
  }

  /**
   * Asks every other node for its version of `key`. Returns once `expected`
   * nodes answered or `maxWaitMs` passed: node id → version. Answers that do
   * not verify are ignored (and do not count towards `expected`).
   */
  async ask (key: string, expected: number, maxWaitMs: number): Promise<Map<string, number>> {
    const { nc, node, authenticator, ignored } = this.#o
    const answers = new Map<string, number>()
    if (expected === 0 || nc.isClosed() || nc.isDraining()) return answers
    const q = signQuestion(authenticator, { namespace: node.namespace, from: node.nodeId, id: randomBytes(16).toString('base64url'), reply: createInbox(inboxPrefixOf(nc)), key })
    let finish!: () => void
    const finished = new Promise<void>(resolve => { finish = resolve })
    const sub = nc.subscribe(q.reply, {
      callback: (err, msg) => {
        if (err !== null) return finish()
        const read = readAnswer(authenticator, q, msg.data)
        if ('ignored' in read) return ignored.note('key-answer', read.ignored)
        if (read.record.nodeId === node.nodeId) return
        answers.set(read.record.nodeId, read.record.version)
        if (answers.size >= expected) finish()
      }
    })
    const timer = setTimeout(finish, maxWaitMs)
    try {
      nc.publish(keyQuerySubject(node.namespace), JSON.stringify(q), { reply: q.reply })
      await finished
    } catch {
      // A lost connection: the nodes that answered are all there is to say.
    } finally {
      clearTimeout(timer)
      sub.unsubscribe()
    }
    return answers
  }

  /** Stops answering. */
  close (): void {
    this.#sub.unsubscribe()
  }
}

// The reply prefix the connection was opened with (`inboxPrefix`), as nats.js's own requests
// use it: a user confined to its own replies receives the answers. Not in the typed interface.
function inboxPrefixOf (nc: NatsConnection): string | undefined {
  return (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix
}
