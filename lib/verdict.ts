/**
 * The verdict: whether a record of the change log counts. Every replica
 * decides every record with this one function, from the record and the state
 * in force at its log position only (the latest applied version of each key
 * it writes, the policy in force, and whether the log holds authenticated
 * records yet): no clock, no local setting. So replicas that read the same
 * log hold the same state, and a writer learns what became of its own record
 * from its own replica's verdict. A single key's record, a changeset and a
 * rotation's release obey the same rule per key ({@link keyRule}); a
 * changeset or a release counts only if every one of its changes does.
 *
 * Two modes, by the log alone. Open (no policy applied yet): records are
 * authenticated by the namespace data key (values open bound to their
 * record, tags), as every holder of it may write. Under a policy: records
 * are authenticated by their writer's signature and authorized by the
 * policy in force, and nothing a host's own keys decide (whether a value
 * opens, what it holds) takes part, so hosts holding different read-scope
 * keys still decide alike.
 * docs/verdict.md has the rules as a table.
 */
import type { Authenticator } from './authenticator.js'
import { RESERVED_PREFIX, within, type HostGrant, type PolicyInForce } from './identity/policy.js'
import { verifyRecord, type RecordSignature } from './identity/signature.js'
import { decodeEntry, type AnyRecord, type EntryRead } from './records/decode-entry.js'
import type { LogEntry } from './log/abstract-log.js'
import { deleteTagParts, LEGACY_SCHEMA_VERSION, maxSealedChars, sealContextOf, type DecodeFailure, type PolicyRecord } from './records/record.js'
import type { SealContext, Sealed, Sealer } from './seal.js'
import type { TagParts } from './authenticator.js'
import { rotationTagParts, type RotationDecision, type RotationRecord, type StageRecord } from './records/rotation-record.js'
import { changeSealContext, changesetTagParts, TRANSACTION_SCHEMA_VERSION, type ChangesetRecord } from './records/transaction-record.js'
import type { WriteOp } from './types.js'
import { isJsonObject, MAX_VALUE_BYTES_CEILING, MAX_VALUE_DEPTH, depthOf } from './value.js'

/** Why a record does not count. */
export type Refusal =
  | DecodeFailure
  /** Schema 2 or 3 that does not authenticate under this namespace's key (a value that does not open bound to the record, a tag): forged, altered, or of another key. */
  | 'unauthenticated'
  /** Schema 1 (no tag) after the log's first authenticated record. */
  | 'legacy'
  /** Schema 1: the sealed value does not open under the namespace key, bound to its namespace, key and version. */
  | 'seal'
  /** The value opens, but is not a JSON object. */
  | 'not-an-object'
  /** The value opens, but is larger or deeper than any node may write. */
  | 'too-large'
  /** A version at or below the key's latest. */
  | 'stale-version'
  /** A version further above the key's latest than the log has records since it. */
  | 'version-jump'
  /** A delete of a key that does not exist. */
  | 'nothing-to-delete'
  /** An ack, release or abort of a rotation never staged. */
  | 'no-such-rotation'
  /** A stage under the id of a rotation staged before. */
  | 'rotation-exists'
  /** An ack, release or abort of a rotation released or aborted before. */
  | 'rotation-closed'
  /** A stage of a key that an open rotation stages already. */
  | 'key-staged'
  /** An ack by a host the rotation does not wait for. */
  | 'unexpected-ack'
  /** An ack no newer than the host's latest one on the rotation: a replay of an earlier answer. */
  | 'stale-ack'
  /** A release (not forced) before every host the rotation waits for acknowledged it ok. */
  | 'acks-missing'
  /** Under a policy: a record without a signature. */
  | 'unsigned'
  /** Under a policy: signed by a key it does not grant, in another host's name, or beyond the signer's grant (a key it may not write, a rotation it may not decide, a policy not signed by the admin key). */
  | 'unauthorized'
  /** Under a policy: a value sealed under a key id its key's read scope does not list. */
  | 'scope-key'

/** What the verdict knows of a key: its latest applied version (tombstones too). */
export interface KeyState {
  version: number
  op: WriteOp
  /** Log sequence of that version's record (a key's own record, or the changeset that wrote it). */
  seq: number
}

/** What the verdict knows of a rotation. */
export interface RotationState {
  id: string
  status: 'staged' | 'released' | 'aborted'
  /** The hosts (node ids) that must acknowledge before a release. */
  hosts: string[]
  /** Each staged change: its key's next version (built on the one before) and op. */
  changes: Array<{ key: string, version: number, op: WriteOp }>
  /** Each host's latest acknowledgement. */
  acks: Record<string, { ok: boolean, message?: string, seq: number, id?: string }>
}

/**
 * The state in force at a record's position: each key's latest applied
 * version, each rotation, and which open rotation stages a key (all
 * `undefined` when there is none).
 */
export interface StateInForce {
  head: (key: string) => KeyState | undefined
  rotation: (id: string) => RotationState | undefined
  stagedIn: (key: string) => string | undefined
  /** The policy in force: the latest version applied (`undefined`: open mode). */
  policy: () => PolicyInForce | undefined
}

/** A state in which nothing is held: for a record judged on its own (its authenticity, its values), in open mode. */
export const NO_STATE: StateInForce = { head: () => undefined, rotation: () => undefined, stagedIn: () => undefined, policy: () => undefined }

/** What the verdict is computed with besides the record: the same on every replica of a namespace. */
export interface VerdictContext {
  namespace: string
  authenticator: Authenticator
  sealer: Sealer
  /** Whether schema 1 records still count: only until the log's first authenticated record. */
  legacy: boolean
}

/**
 * `applied`: the record counts. A refusal carries the record when it was
 * authentic (so the caller may act on a stale one, and notice that the log
 * is authenticated); an unauthenticated record is never handed on.
 */
export type Verdict =
  | { applied: true, record: AnyRecord, signer?: string }
  | { applied: false, reason: Refusal, detail: string, record?: AnyRecord, signer?: string }

/** Any record but a policy's. */
type DecidedRecord = Exclude<AnyRecord, PolicyRecord>

/** Why one change does not count: a refusal and what it was about. */
interface Problem { reason: Refusal, detail: string }

/**
 * Decides the record at `entry` in the state in force at its position.
 * `read` is the entry already decoded (a replica decodes first, to learn
 * which keys' state to load).
 */
export function verdict (entry: LogEntry, state: StateInForce, ctx: VerdictContext, read: EntryRead = decodeEntry(entry, ctx.namespace)): Verdict {
  if (!read.ok) return { applied: false, reason: read.reason, detail: read.detail }
  const { record } = read
  const policy = state.policy()
  if ('policy' in record || policy !== undefined) return signedVerdict(entry.seq, record, read.verified, state, policy)
  if (record.v === TRANSACTION_SCHEMA_VERSION) {
    const unauthentic = tagProblem(record.auth, ctx, () => ctx.authenticator.verify('transaction', transactionTagParts(record), record.auth.tag))
    if (unauthentic !== undefined) return { applied: false, ...unauthentic }
    const problem = record.op === 'changeset' || record.op === 'stage' ? changesProblemIn(entry.seq, record, state, ctx) : decisionProblem(entry.seq, record, state)
    if (problem?.reason === 'unauthenticated') return { applied: false, ...problem }
    return problem === undefined ? { applied: true, record } : { applied: false, ...problem, record }
  }

  if (record.v === LEGACY_SCHEMA_VERSION) {
    if (!ctx.legacy) return { applied: false, reason: 'legacy', detail: 'an unauthenticated (schema 1) record after authenticated ones' }
  } else if (record.op === 'delete') {
    // A put or patch is authenticated by its value's seal, checked below; a delete has a tag.
    const unauthentic = tagProblem(record.auth, ctx, () => ctx.authenticator.verify('record', deleteTagParts(record), record.auth.tag))
    if (unauthentic !== undefined) return { applied: false, ...unauthentic }
  }

  if (record.op !== 'delete') {
    const value = valueProblem(record.value, sealContextOf(record, record.v), ctx, record.v === LEGACY_SCHEMA_VERSION)
    // A schema 2 value that does not open means the record is not authentic: it is never handed on.
    if (value?.reason === 'unauthenticated') return { applied: false, ...value }
    if (value !== undefined) return { applied: false, ...value, record }
  }
  const problem = keyRule(entry.seq, record, state.head(record.key))
  return problem === undefined ? { applied: true, record } : { applied: false, ...problem, record }
}

/**
 * A record under a policy, or a policy record: authentic when its signature
 * verifies (`verified`, when the caller checked it ahead), authorized when
 * the policy in force grants its signer what it does, then decided by the
 * same rules as in open mode, short of opening values. A policy record must
 * be signed by the admin key in force; the first one, by the admin key it
 * names itself (whoever holds the namespace may write anything in open mode,
 * so the first policy trusts no one less than that).
 */
function signedVerdict (seq: number, record: AnyRecord, verified: boolean | undefined, state: StateInForce, policy: PolicyInForce | undefined): Verdict {
  const sig = (record as { sig?: RecordSignature }).sig
  if (sig === undefined) return { applied: false, reason: 'unsigned', detail: 'a record without a signature under a policy' }
  if (!(verified ?? verifyRecord({ ...record, sig }))) return { applied: false, reason: 'unauthenticated', detail: `the signature by ${sig.pub} does not verify` }
  const signer = sig.pub
  const refused = (problem: Problem): Verdict => ({ applied: false, ...problem, record, signer })
  if ('policy' in record) {
    const admin = policy?.admin ?? record.policy.admin
    if (signer !== admin) return refused({ reason: 'unauthorized', detail: `a policy signed by ${signer}, not by the admin key ${admin}` })
    const problem = keyRule(seq, record, state.head(record.key))
    return problem === undefined ? { applied: true, record, signer } : refused(problem)
  }
  const authority = policy as PolicyInForce
  const host = authority.host(signer)
  if (host === undefined) return refused({ reason: 'unauthorized', detail: `signed by ${signer}, a key policy version ${authority.version} does not grant` })
  if (record.meta.nodeId !== host.name) return refused({ reason: 'unauthorized', detail: `signed by host ${host.name} in the name of ${record.meta.nodeId}` })
  const problem = grantProblem(record, host, authority, state) ?? ruleProblem(seq, record, state)
  return problem === undefined ? { applied: true, record, signer } : refused(problem)
}

// What the signer's grant does not cover: a key it may not write (or a key of the register's
// own), a rotation it may not decide, a value sealed outside its key's read scope.
function grantProblem (record: DecidedRecord, host: HostGrant, policy: PolicyInForce, state: StateInForce): Problem | undefined {
  const writes = (key: string, sealed?: Sealed): Problem | undefined => {
    if (key.startsWith(RESERVED_PREFIX) || !within(key, host.write)) return { reason: 'unauthorized', detail: `host ${host.name} may not write ${key}` }
    if (sealed !== undefined && !policy.sealable(key, sealed.kid)) {
      return { reason: 'scope-key', detail: `${key} sealed under key id ${sealed.kid}, which its read scope ${JSON.stringify(policy.scopeOf(key)?.prefix)} does not list` }
    }
    return undefined
  }
  const decides = (): Problem | undefined => (host.rotations ? undefined : { reason: 'unauthorized', detail: `host ${host.name} may not ${record.op} rotations` })
  if (record.v !== TRANSACTION_SCHEMA_VERSION) return writes(record.key, record.op === 'delete' ? undefined : record.value)
  switch (record.op) {
    case 'ack':
      return undefined
    case 'abort':
      return decides()
    case 'release':
      return decides() ?? firstOf((state.rotation(record.rotation)?.changes ?? []).map(c => () => writes(c.key)))
    default:
      return (record.op === 'stage' ? decides() : undefined) ?? firstOf(record.changes.map(c => () => writes(c.key, c.op === 'delete' ? undefined : c.value)))
  }
}

// The rules of open mode but for the values' contents, which not every host can open under a
// policy: only their size, from the sealed bytes.
function ruleProblem (seq: number, record: DecidedRecord, state: StateInForce): Problem | undefined {
  if (record.v !== TRANSACTION_SCHEMA_VERSION) {
    return (record.op === 'delete' ? undefined : sizeProblem(record.key, record.value)) ?? keyRule(seq, record, state.head(record.key))
  }
  if (record.op !== 'changeset' && record.op !== 'stage') return decisionProblem(seq, record, state)
  return firstOf(record.changes.map(c => () => (c.op === 'delete' ? undefined : sizeProblem(c.key, c.value)))) ?? changesProblemIn(seq, record, state)
}

function sizeProblem (key: string, sealed: Sealed): Problem | undefined {
  return sealed.ct.length > maxSealedChars(MAX_VALUE_BYTES_CEILING) ? { reason: 'too-large', detail: `${key}: a sealed value of ${sealed.ct.length} base64 characters` } : undefined
}

function firstOf (checks: Array<() => Problem | undefined>): Problem | undefined {
  for (const check of checks) {
    const problem = check()
    if (problem !== undefined) return problem
  }
  return undefined
}

/**
 * The rule every new version of a key obeys, alone or in a changeset: it is
 * above the key's latest (`stale-version`: the same version built twice, the
 * later loses), no further above it than the log has records since
 * (`version-jump`), and a delete deletes something (`nothing-to-delete`).
 * A version below the latest plus one is allowed: a replica that caught up
 * after the log's per-key limit dropped records never saw the versions between.
 */
export function keyRule (seq: number, change: { version: number, op: WriteOp }, head: KeyState | undefined): Problem | undefined {
  const current = head?.version ?? 0
  if (change.version <= current) return { reason: 'stale-version', detail: `version ${change.version} after ${current}` }
  // Each version of a key is written by a record at a higher sequence, so an honest log
  // cannot climb further than the number of records since the key's latest.
  const room = seq - (head?.seq ?? 0)
  if (change.version - current > room) {
    return { reason: 'version-jump', detail: `version ${change.version} after ${current}, only ${room} records later` }
  }
  if (change.op === 'delete' && (change.version === 1 || (head?.op === 'delete' && change.version === current + 1))) {
    return { reason: 'nothing-to-delete', detail: `a delete of a key that does not exist (version ${change.version})` }
  }
  return undefined
}

function transactionTagParts (record: ChangesetRecord | RotationRecord): TagParts {
  return record.op === 'changeset' ? changesetTagParts(record) : rotationTagParts(record)
}

// All or nothing: every value sound, every change within the rule of its key; a stage
// also opens a rotation of its own and stages no key that another open rotation stages.
function changesProblemIn (seq: number, record: ChangesetRecord | StageRecord, state: StateInForce, ctx?: VerdictContext): Problem | undefined {
  for (const change of record.changes) {
    // Values are opened in open mode only (`ctx`): under a policy, the signature authenticates them.
    if (change.op === 'delete' || ctx === undefined) continue
    const value = valueProblem(change.value, changeSealContext(record.ns, record.id, record.meta, change), ctx, false)
    if (value !== undefined) return { reason: value.reason, detail: `${change.key}: ${value.detail}` }
  }
  if (record.op === 'stage') {
    if (state.rotation(record.id) !== undefined) return { reason: 'rotation-exists', detail: `rotation ${record.id} was staged before` }
    for (const { key } of record.changes) {
      const open = state.stagedIn(key)
      if (open !== undefined) return { reason: 'key-staged', detail: `${key} is staged by the open rotation ${open}` }
    }
  }
  for (const change of record.changes) {
    const problem = keyRule(seq, change, state.head(change.key))
    if (problem !== undefined) return { reason: problem.reason, detail: `${change.key}: ${problem.detail}` }
  }
  return undefined
}

// An ack, release or abort: of a rotation that is open; an ack by a host it waits for;
// a release once every such host acked ok (unless forced) and no staged key moved.
function decisionProblem (seq: number, record: RotationDecision, state: StateInForce): Problem | undefined {
  const rotation = state.rotation(record.rotation)
  if (rotation === undefined) return { reason: 'no-such-rotation', detail: `no rotation ${record.rotation} was staged` }
  if (rotation.status !== 'staged') return { reason: 'rotation-closed', detail: `rotation ${record.rotation} was ${rotation.status} already` }
  if (record.op === 'ack') {
    if (!rotation.hosts.includes(record.meta.nodeId)) return { reason: 'unexpected-ack', detail: `rotation ${record.rotation} does not wait for ${record.meta.nodeId}` }
    // Record ids are uuid v7, ordered as their writer made them: an earlier answer published
    // again (by anyone who read it off the log) must not replace a later one.
    const latest = rotation.acks[record.meta.nodeId]?.id
    return latest !== undefined && record.id <= latest ? { reason: 'stale-ack', detail: `${record.meta.nodeId} answered rotation ${record.rotation} after this already` } : undefined
  }
  if (record.op === 'abort') return undefined
  if (!record.forced) {
    const missing = rotation.hosts.filter(host => rotation.acks[host] === undefined)
    const failed = rotation.hosts.filter(host => rotation.acks[host]?.ok === false)
    if (missing.length > 0 || failed.length > 0) {
      const said = [missing.length > 0 ? `no ack from ${missing.join(', ')}` : '', failed.length > 0 ? `failed on ${failed.join(', ')}` : ''].filter(Boolean)
      return { reason: 'acks-missing', detail: `rotation ${record.rotation}: ${said.join('; ')}` }
    }
  }
  for (const change of rotation.changes) {
    const problem = keyRule(seq, change, state.head(change.key))
    if (problem !== undefined) {
      return { reason: problem.reason, detail: `${change.key} moved since rotation ${record.rotation} staged version ${change.version} (${problem.detail})` }
    }
  }
  return undefined
}

function tagProblem (auth: { kid: string }, ctx: VerdictContext, holds: () => boolean): Problem | undefined {
  if (auth.kid !== ctx.authenticator.kid) {
    return { reason: 'unauthenticated', detail: `tagged under key id ${auth.kid}, this namespace's key is ${ctx.authenticator.kid}` }
  }
  return holds() ? undefined : { reason: 'unauthenticated', detail: 'the tag does not match the record' }
}

// The value must be what an honest writer produces: it opens, it is a JSON
// object, within the ceiling every node's size limit sits under and no deeper
// than any value may nest (a deeper one would fail every later read).
function valueProblem (sealed: Sealed, context: SealContext, ctx: VerdictContext, legacy: boolean): Problem | undefined {
  let plain: Buffer
  try {
    plain = ctx.sealer.open(sealed, context)
  } catch (err) {
    return { reason: legacy ? 'seal' : 'unauthenticated', detail: (err as Error).message }
  }
  if (plain.length > MAX_VALUE_BYTES_CEILING) return { reason: 'too-large', detail: `a value of ${plain.length} bytes` }
  let value: unknown
  try {
    value = JSON.parse(plain.toString('utf8'))
  } catch {
    return { reason: 'not-an-object', detail: 'the value is not JSON' }
  }
  if (!isJsonObject(value)) return { reason: 'not-an-object', detail: 'the value is not a JSON object' }
  const depth = depthOf(value)
  return depth > MAX_VALUE_DEPTH ? { reason: 'too-large', detail: `a value nested ${depth} levels deep` } : undefined
}
