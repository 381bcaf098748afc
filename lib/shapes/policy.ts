/**
 * The policy as the admin routes carry it (`GET` and `PUT /v1/admin/policy`),
 * and what a reseal of a read scope did (`POST /v1/admin/reseal`).
 */
import { Type, type Static } from 'typebox'
import { PolicySchema } from '../identity/policy.js'
import { CountSchema, VersionSchema } from './numbers.js'

/** The policy in force and its version (`GET /v1/admin/policy` → 200). */
export const PolicyInForceSchema = Type.Object({
  version: VersionSchema,
  policy: PolicySchema
})

/** The policy in force and its version. */
export type PolicyVersion = Static<typeof PolicyInForceSchema>

/**
 * `PUT /v1/admin/policy`: the next version of the policy as a record the admin
 * built and signed off the fleet. The daemon only checks the envelope here;
 * the record itself is checked as every replica will decide it.
 */
export const PutPolicyBodySchema = Type.Object({
  record: Type.Record(Type.String(), Type.Unknown())
}, { additionalProperties: false })

/** The body of `PUT /v1/admin/policy`. */
export type PutPolicyBody = Static<typeof PutPolicyBodySchema>

/** `POST /v1/admin/reseal`: the read scope (key prefix) whose live values to seal again under its current key. */
export const ResealBodySchema = Type.Object({
  prefix: Type.String({ maxLength: 256 })
}, { additionalProperties: false })

/** One key a reseal could not write again, and why. */
export const ResealFailureSchema = Type.Object({
  key: Type.String(),
  code: Type.String(),
  message: Type.String()
})

/** What a reseal did (`POST /v1/admin/reseal` → 200). */
export const ResealResultSchema = Type.Object({
  /** Values written again under the scope's current key. */
  resealed: CountSchema,
  /** Values already under it (or written anew meanwhile). */
  current: CountSchema,
  /** Values that could not be written again, and why. */
  failed: Type.Array(ResealFailureSchema)
})
