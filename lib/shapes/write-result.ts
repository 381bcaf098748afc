/**
 * What a write answers: in full from a node, as `{ key, version }` on the
 * wire, and rebuilt from the answer's status and headers by the client.
 */
import { Type, type Static } from 'typebox'
import { SeqSchema, VersionSchema } from './numbers.js'

const key = Type.String()
const version = VersionSchema
const created = Type.Boolean()
const correlationId = Type.String()

/** The result of every write of a node. */
export const WriteResultSchema = Type.Object({
  key,
  /** The version the write created (for a delete: its tombstone version). */
  version,
  /** Log sequence of the record. */
  seq: SeqSchema,
  /** Whether the key was absent (or deleted) before this write. */
  created,
  /** The correlation id the write was recorded under. */
  correlationId
})

/** The result of every write of a node. */
export type WriteResult = Static<typeof WriteResultSchema>

/** Every write (PUT, PATCH, DELETE) answers this body: 201 when `created`, else 200. */
export const WriteBodySchema = Type.Object({ key, version })

/** The body of a write's answer. */
export type WriteBody = Static<typeof WriteBodySchema>

/**
 * The result of every write through the client: a {@link WriteResult} without
 * `seq` (the daemon does not answer it). `created` is the 201 status,
 * `correlationId` the echoed `X-Correlation-Id`, absent when none came back.
 * A node's {@link WriteResult} is one too.
 */
export const ClientWriteResultSchema = Type.Object({
  key,
  /** The version the write created (for a delete: its tombstone version). */
  version,
  /** Whether the key was absent (or deleted) before this write (the daemon answered 201). */
  created,
  /** The correlation id the daemon recorded the write under (the echoed `X-Correlation-Id`). */
  correlationId: Type.Optional(correlationId)
})

/** The result of every write through the client. */
export type ClientWriteResult = Static<typeof ClientWriteResultSchema>
