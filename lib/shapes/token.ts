/**
 * Scoped tokens of the apps' socket: what `POST /v1/admin/tokens` takes, what
 * the token routes answer, and the record `<data-dir>/tokens.json` keeps of
 * each token (its SHA-256, never the token).
 */
import { Type, type Static } from 'typebox'

/** Most prefixes a token's read (or write) scope holds. */
export const MAX_TOKEN_PREFIXES = 64

/** Most tokens a daemon keeps. */
export const MAX_TOKENS = 256

/** A token's name: unique on the daemon. */
export const TokenNameSchema = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })

/**
 * Key prefixes: a key is within the scope when it starts with one of them
 * (`svc/a/` covers `svc/a/db`; `svc/a` would cover `svc/ab` too). Each is
 * checked as a listing prefix (lib/key.ts `assertPrefix`) and is not empty.
 */
const PrefixesSchema = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: MAX_TOKEN_PREFIXES })

/** What a token may do: read and write keys under its prefixes, and act on rotations with `rotations`. */
export const TokenScopeSchema = Type.Object({
  name: TokenNameSchema,
  read: PrefixesSchema,
  write: PrefixesSchema,
  /** Stage, release and abort rotations (of keys it may write), and see every rotation. */
  rotations: Type.Boolean()
})

/** A token's name and scope. */
export type TokenScope = Static<typeof TokenScopeSchema>

/** `POST /v1/admin/tokens`. */
export const CreateTokenBodySchema = Type.Object({
  name: TokenNameSchema,
  read: Type.Optional(PrefixesSchema),
  write: Type.Optional(PrefixesSchema),
  rotations: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

/** The body of `POST /v1/admin/tokens`. */
export type CreateTokenBody = Static<typeof CreateTokenBodySchema>

/** A token as `GET /v1/admin/tokens` lists it: its scope and when it was made, never its hash. */
export const TokenInfoSchema = Type.Object({
  ...TokenScopeSchema.properties,
  createdAt: Type.String()
})

/** A token's name, scope and creation time. */
export type TokenInfo = Static<typeof TokenInfoSchema>

/** `POST /v1/admin/tokens` → 201: the token, told this once, and its scope. */
export const CreatedTokenSchema = Type.Object({
  ...TokenInfoSchema.properties,
  token: Type.String()
})

/** A new token and its scope. */
export type CreatedToken = Static<typeof CreatedTokenSchema>

/** `GET /v1/admin/tokens` → 200. */
export const TokenListSchema = Type.Object({ tokens: Type.Array(TokenInfoSchema) })

/** `/v1/admin/tokens/{name}`. */
export const TokenParamsSchema = Type.Object({ name: Type.String() })

/** One token as `tokens.json` keeps it. */
export const TokenRecordSchema = Type.Object({
  ...TokenInfoSchema.properties,
  /** SHA-256 of the token, hex. */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' })
}, { additionalProperties: false })

/** One stored token. */
export type TokenRecord = Static<typeof TokenRecordSchema>

/** `<data-dir>/tokens.json`, schema version 1. */
export const TokenFileSchema = Type.Object({
  version: Type.Literal(1),
  tokens: Type.Array(TokenRecordSchema, { maxItems: MAX_TOKENS })
}, { additionalProperties: false })

/** The tokens file. */
export type TokenFile = Static<typeof TokenFileSchema>
