/**
 * Who a node is: its host key, the data keys it holds, and what the policy
 * in force grants it (`credreg whoami`, part of `GET /v1/status`).
 */
import { Type, type Static } from 'typebox'
import { HostGrantSchema } from '../identity/policy.js'
import { VersionSchema } from './numbers.js'

export const NodeIdentitySchema = Type.Object({
  /** The node's public key (Ed25519, base64url): what its records are signed under once a policy is in force. */
  publicKey: Type.String(),
  /** The ids of the data keys this node holds: the namespace's first, then read-scope and rotated keys. */
  keyIds: Type.Array(Type.String()),
  /** The version of the policy in force; absent in open mode (no policy yet: every holder of the data key may write anything). */
  policyVersion: Type.Optional(VersionSchema),
  /** What the policy in force grants this node's key; absent in open mode or when it grants it nothing. */
  grant: Type.Optional(HostGrantSchema)
})

/** Who a node is and what it may do. */
export type NodeIdentity = Static<typeof NodeIdentitySchema>
