/**
 * The values credreg stores and the RFC 6902 operations between them.
 */
import type { Operation } from 'fast-json-patch'
import { Type, type Static } from 'typebox'

/** A JSON object value. */
export const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown())

/** A JSON object: the only kind of value an entity holds. */
export type JsonObject = Static<typeof JsonObjectSchema>

/** What the wire says of an RFC 6902 operation: loose, any `op`. */
export const LoosePatchOperationSchema = Type.Object({
  op: Type.String(),
  path: Type.String(),
  from: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown())
})

/**
 * One RFC 6902 operation as found in history and change events: the loose
 * schema, with fast-json-patch's `Operation` (the one `patch()` takes) as its
 * static type.
 */
export const PatchOperationSchema = Type.Unsafe<Operation>(LoosePatchOperationSchema)

/** One RFC 6902 operation. */
export type PatchOperation = Static<typeof PatchOperationSchema>
