/**
 * A page of a listing of live keys.
 */
import { Type, type Static } from 'typebox'
import { VersionSchema } from './numbers.js'

/** One item of a listing: live (not deleted) keys only. */
export const ListItemSchema = Type.Object({
  key: Type.String(),
  version: VersionSchema,
  updatedAt: Type.String()
})

/** One item of a listing: live (not deleted) keys only. */
export type ListItem = Static<typeof ListItemSchema>

/** A page of keys (`GET /v1/entities` → 200); `next` is the `after` of the following page, if any. */
export const ListPageSchema = Type.Object({
  items: Type.Array(ListItemSchema),
  next: Type.Optional(Type.String())
})

/** A page of keys; `next` is the `after` of the following page, if any. */
export type ListPage = Static<typeof ListPageSchema>
