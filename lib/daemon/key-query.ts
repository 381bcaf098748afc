/**
 * "Which version of key K does each node hold?" as a scatter-gather request
 * on the core NATS subject `credreg.<namespace>.q.version`: every daemon
 * answers with the version of K in its own replica.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { isCredregError } from '../errors.js'
import type { CredregNode, Logger } from '../types.js'

const QuerySchema = Type.Object({ v: Type.Literal(1), key: Type.String(), from: Type.String() })
const AnswerSchema = Type.Object({ v: Type.Literal(1), nodeId: Type.String(), version: Type.Integer({ minimum: 0 }) })
const checkQuery = Compile(QuerySchema)
const checkAnswer = Compile(AnswerSchema)

/** The query subject of a namespace. */
export function keyQuerySubject (namespace: string): string {
  return `credreg.${namespace}.q.version`
}

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

/** Answers the queries of other nodes until unsubscribed. */
export function answerKeyQueries (nc: NatsConnection, node: CredregNode, logger: Logger): Subscription {
  return nc.subscribe(keyQuerySubject(node.namespace), {
    callback: (err, msg) => {
      if (err !== null) return
      let query: unknown
      try {
        query = msg.json()
      } catch {}
      if (!checkQuery.Check(query) || query.from === node.nodeId) return
      heldVersion(node, query.key)
        .then(version => msg.respond(JSON.stringify({ v: 1, nodeId: node.nodeId, version })))
        .catch((e: unknown) => logger.debug({ err: e, key: query.key }, 'cannot answer a key query'))
    }
  })
}

/**
 * Asks every other node for its version of `key`. Returns once `expected`
 * nodes answered or `maxWaitMs` passed: node id → version.
 */
export async function askKeyVersions (nc: NatsConnection, node: CredregNode, key: string, expected: number, maxWaitMs: number): Promise<Map<string, number>> {
  const answers = new Map<string, number>()
  if (expected === 0 || nc.isClosed()) return answers
  const query = JSON.stringify({ v: 1, key, from: node.nodeId })
  try {
    const replies = await nc.requestMany(keyQuerySubject(node.namespace), query, { strategy: 'count', maxMessages: expected, maxWait: maxWaitMs })
    for await (const msg of replies) {
      let answer: unknown
      try {
        answer = msg.json()
      } catch {}
      if (checkAnswer.Check(answer)) answers.set(answer.nodeId, answer.version)
    }
  } catch {
    // No responders, a timeout or a lost connection: the nodes that answered are all there is to say.
  }
  return answers
}
