/**
 * How the admin commands change the policy: read the version in force from
 * the daemon, apply the change to it, sign the next version with the admin
 * key here (the key file never leaves the admin's machine; the daemon only
 * carries the record to the log), and put it. When another admin's version
 * landed in between (`VERSION_CONFLICT`), the change is applied again to
 * that one, so neither change is lost silently.
 */
import { resolve } from 'node:path'
import { v7 as uuidv7 } from 'uuid'
import type { CredregClient } from '../client/client.js'
import type { PolicyVersion } from '../client/types.js'
import { CredregError, isCredregError } from '../errors.js'
import { POLICY_KEY, policyProblem, type Policy } from '../identity/policy.js'
import { SigningKey } from '../identity/signing-key.js'
import { buildPolicyRecord } from '../records/record.js'

/** How often a change is applied again to a version another admin put first. */
export const POLICY_CHANGE_ATTEMPTS = 3
/** The node id policy records name: the admin, who is no host. */
export const ADMIN_NODE_ID = 'admin'

/** The admin key of `path` (a PEM file of mode 0600, as `credreg admin keygen` writes it). */
export async function loadAdminKey (path: string): Promise<SigningKey> {
  return await SigningKey.fromFile(resolve(path), 'admin key file')
}

/** The policy in force, or `undefined` in open mode. */
export async function currentPolicy (client: CredregClient): Promise<PolicyVersion | undefined> {
  try {
    return await client.policy()
  } catch (err) {
    if (isCredregError(err, 'NOT_FOUND')) return undefined
    throw err
  }
}

/** A change of the policy: the next document from the one in force; throws to refuse it. */
export type PolicyChange = (policy: Policy) => Policy

/**
 * Signs `policy` as version `version` with `admin` and puts it; `version` 1
 * when there is none yet. Refuses (`BAD_REQUEST`) a document the replicas
 * would refuse, before anything is sent.
 */
export async function putPolicyVersion (client: CredregClient, namespace: string, version: number, policy: Policy, admin: SigningKey): Promise<void> {
  const problem = policyProblem(policy)
  if (problem !== undefined) throw new CredregError('BAD_REQUEST', `the policy would be invalid: ${problem}`)
  const meta = { updatedAt: new Date().toISOString(), nodeId: ADMIN_NODE_ID, correlationId: uuidv7() }
  await client.putPolicy(buildPolicyRecord({ ns: namespace, key: POLICY_KEY, version, meta }, policy, admin))
}

/**
 * Applies `change` to the policy in force and puts the result as the next
 * version, signed by `admin`; again on a version conflict, up to
 * {@link POLICY_CHANGE_ATTEMPTS} times. Resolves with the version put.
 * `NOT_FOUND` in open mode; `FORBIDDEN` when `admin` is not the admin key in force.
 */
export async function changePolicy (client: CredregClient, admin: SigningKey, change: PolicyChange): Promise<PolicyVersion> {
  const { namespace } = await client.status()
  for (let attempt = 1; ; attempt++) {
    const current = await currentPolicy(client)
    if (current === undefined) throw new CredregError('NOT_FOUND', 'no policy is in force (open mode): start one with credreg admin init', { key: POLICY_KEY })
    if (current.policy.admin !== admin.publicKey) {
      throw new CredregError('FORBIDDEN', `policy version ${current.version} is signed by the admin key ${current.policy.admin}; this admin key file holds ${admin.publicKey}`)
    }
    const next = { version: current.version + 1, policy: change(structuredClone(current.policy)) }
    try {
      await putPolicyVersion(client, namespace, next.version, next.policy, admin)
      return next
    } catch (err) {
      if (!isCredregError(err, 'VERSION_CONFLICT') || attempt >= POLICY_CHANGE_ATTEMPTS) throw err
    }
  }
}
