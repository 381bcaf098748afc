/**
 * The wire records of the key-version query (schema version 2). A question
 * is tagged under the namespace key (the `key-query` subkey) over its
 * namespace, asker, random id, reply subject and key, so a NATS user without
 * the key cannot make every host answer; an answer is tagged (the
 * `key-answer` subkey) over the question it answers (id, asker, key), the
 * answering node's id and the version, so it cannot be forged, nor replayed
 * into another question.
 */
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { Authenticator, TagParts } from '../authenticator.js'
import { parseJson, type Read } from './heartbeat-record.js'

/** The schema version of questions and answers; version 1 (untagged) is ignored. */
export const KEY_QUERY_VERSION = 2

/** Messages larger than this are dropped before they are parsed. */
export const MAX_KEY_QUERY_BYTES = 2048

const Tag = Type.String({ maxLength: 64 })

/** "Which version of `key` do you hold?" */
export const QuestionSchema = Type.Object({
  v: Type.Literal(KEY_QUERY_VERSION),
  namespace: Type.String({ minLength: 1, maxLength: 64 }),
  /** The asking node. */
  from: Type.String({ minLength: 1, maxLength: 128 }),
  /** A random id (16 bytes, base64url): what answers bind to, and what repeats of the question are known by. */
  id: Type.String({ minLength: 16, maxLength: 64 }),
  /** The subject answers go to; a question that arrives with another reply subject is not answered. */
  reply: Type.String({ minLength: 1, maxLength: 256 }),
  key: Type.String({ minLength: 1, maxLength: 256 }),
  tag: Tag
}, { additionalProperties: false })

/** "I hold version `version` of it." */
export const AnswerSchema = Type.Object({
  v: Type.Literal(KEY_QUERY_VERSION),
  nodeId: Type.String({ minLength: 1, maxLength: 128 }),
  version: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  tag: Tag
}, { additionalProperties: false })

export type Question = Static<typeof QuestionSchema>
export type Answer = Static<typeof AnswerSchema>

const checkQuestion = Compile(QuestionSchema)
const checkAnswer = Compile(AnswerSchema)

/** The query subject of a namespace. */
export function keyQuerySubject (namespace: string): string {
  return `credreg.${namespace}.q.version`
}

function questionParts (q: Omit<Question, 'v' | 'tag'>): TagParts {
  return [KEY_QUERY_VERSION, q.namespace, q.from, q.id, q.reply, q.key]
}

function answerParts (q: Question, nodeId: string, version: number): TagParts {
  return [KEY_QUERY_VERSION, q.namespace, q.from, q.id, q.key, nodeId, version]
}

/** The tagged question. */
export function signQuestion (auth: Authenticator, q: Omit<Question, 'v' | 'tag'>): Question {
  return { v: KEY_QUERY_VERSION, ...q, tag: auth.tag('key-query', questionParts(q)) }
}

/** The tagged answer of `nodeId` to `q`. */
export function signAnswer (auth: Authenticator, q: Question, nodeId: string, version: number): Answer {
  return { v: KEY_QUERY_VERSION, nodeId, version, tag: auth.tag('key-answer', answerParts(q, nodeId, version)) }
}

/** Parses and checks a question of `namespace` that arrived with the reply subject `reply`. */
export function readQuestion (auth: Authenticator, namespace: string, data: Uint8Array, reply: string | undefined): Read<Question> {
  const parsed = parse(data)
  if ('ignored' in parsed) return parsed
  const q = parsed.record
  if (!checkQuestion.Check(q) || q.namespace !== namespace) return { ignored: 'malformed' }
  if (q.reply !== reply || !auth.verify('key-query', questionParts(q), q.tag)) return { ignored: 'forged' }
  return { record: q }
}

/** Parses and checks an answer to `q`. */
export function readAnswer (auth: Authenticator, q: Question, data: Uint8Array): Read<Answer> {
  const parsed = parse(data)
  if ('ignored' in parsed) return parsed
  const a = parsed.record
  if (!checkAnswer.Check(a)) return { ignored: 'malformed' }
  if (!auth.verify('key-answer', answerParts(q, a.nodeId, a.version), a.tag)) return { ignored: 'forged' }
  return { record: a }
}

function parse (data: Uint8Array): Read<unknown> {
  if (data.byteLength > MAX_KEY_QUERY_BYTES) return { ignored: 'oversized' }
  const value = parseJson(data)
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== KEY_QUERY_VERSION) return { ignored: 'version' }
  return { record: value }
}
