/**
 * The policy: who may write what, read what, and decide rotations. It is the
 * register's own key `_credreg/policy`, each version a record signed by the
 * admin key, in plain text (every replica must read it to decide records, so
 * it is sealed under no key any host could lack; it holds public keys, names
 * and prefixes, no secret).
 *
 * The policy in force at a record's position is the latest version applied
 * before it. Before any, the namespace is in open mode: every holder of the
 * data key may write anything, as before policies existed.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { PUBLIC_KEY_PATTERN } from './signing-key.js'

/** The reserved key of the policy. */
export const POLICY_KEY = '_credreg/policy'
/** Keys under this prefix are the register's own: no host writes them. */
export const RESERVED_PREFIX = '_credreg/'

/** The most hosts one policy names (it must fit one record). */
export const MAX_POLICY_HOSTS = 2000
/** The most prefixes one grant lists. */
export const MAX_GRANT_PREFIXES = 64
/** The most read scopes one policy has. */
export const MAX_SCOPES = 256
/** The most key ids one scope keeps open at once (current and not yet retired). */
export const MAX_SCOPE_KEYS = 8

const PublicKey = Type.String({ pattern: PUBLIC_KEY_PATTERN })
// A prefix as keys start: '' (everything) or segments ending in '/' or a partial segment.
const Prefix = Type.String({ maxLength: 256, pattern: '^[A-Za-z0-9_./-]*$' })
const Kid = Type.String({ pattern: '^[0-9a-f]{16}$' })
const Prefixes = Type.Array(Prefix, { maxItems: MAX_GRANT_PREFIXES, uniqueItems: true })

export const HostGrantSchema = Type.Object({
  /** The host's node id: what its records and acknowledgements name it. */
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
  /** The host's public key: its records are signed by it. */
  key: PublicKey,
  /** Prefixes of the keys it may write (put, patch, delete, in changesets and staged rotations too). */
  write: Prefixes,
  /** Prefixes of the keys it may read: its daemon answers nothing else, and it should hold the keys of those read scopes only. */
  read: Prefixes,
  /** Whether it may stage, release and abort rotations. */
  rotations: Type.Boolean()
}, { additionalProperties: false })

export const ScopeSchema = Type.Object({
  /** Keys starting with it are sealed under this scope's key (the longest matching scope wins; '' is every other key). */
  prefix: Prefix,
  /** The key ids values of the scope may be sealed under: the first seals new values, the others still open (not retired). */
  kids: Type.Array(Kid, { minItems: 1, maxItems: MAX_SCOPE_KEYS, uniqueItems: true }),
  /** Key ids retired: values still sealed under them are marked so. */
  retired: Type.Optional(Type.Array(Kid, { maxItems: 64, uniqueItems: true }))
}, { additionalProperties: false })

/** A policy document: the value of `_credreg/policy`. */
export const PolicySchema = Type.Object({
  /** The admin key: it signs the next version of the policy. */
  admin: PublicKey,
  hosts: Type.Array(HostGrantSchema, { maxItems: MAX_POLICY_HOSTS }),
  scopes: Type.Array(ScopeSchema, { maxItems: MAX_SCOPES })
}, { additionalProperties: false })

export type Policy = Static<typeof PolicySchema>
export type HostGrant = Static<typeof HostGrantSchema>
export type Scope = Static<typeof ScopeSchema>

const checkPolicy = Compile(PolicySchema)

/** What a policy document breaks beyond its schema (each host and name once, each scope prefix once), or `undefined`. */
export function policyProblem (policy: unknown): string | undefined {
  if (!checkPolicy.Check(policy)) {
    const first = checkPolicy.Errors(policy)[0]
    return first === undefined ? 'invalid policy' : `${first.instancePath || '/'} ${first.message}`
  }
  const keys = new Set<string>()
  const names = new Set<string>()
  for (const host of policy.hosts) {
    if (keys.has(host.key)) return `the key ${host.key} is granted twice`
    if (names.has(host.name)) return `the host ${host.name} is granted twice`
    keys.add(host.key)
    names.add(host.name)
  }
  const prefixes = new Set<string>()
  for (const scope of policy.scopes) {
    if (prefixes.has(scope.prefix)) return `the scope ${JSON.stringify(scope.prefix)} is listed twice`
    prefixes.add(scope.prefix)
  }
  return undefined
}

/** Whether `key` falls under one of `prefixes`. */
export function within (key: string, prefixes: readonly string[]): boolean {
  return prefixes.some(p => key.startsWith(p))
}

/**
 * A policy version as the verdict consults it: hosts by public key, scopes
 * longest prefix first. Built once per version.
 */
export class PolicyInForce {
  readonly version: number
  readonly document: Policy
  readonly #hosts: Map<string, HostGrant>
  readonly #byName: Map<string, HostGrant>
  readonly #scopes: Scope[]

  constructor (version: number, document: Policy) {
    this.version = version
    this.document = document
    this.#hosts = new Map(document.hosts.map(h => [h.key, h]))
    this.#byName = new Map(document.hosts.map(h => [h.name, h]))
    this.#scopes = [...document.scopes].sort((a, b) => b.prefix.length - a.prefix.length)
  }

  get admin (): string { return this.document.admin }

  /** The grant of the host whose public key is `pub`. */
  host (pub: string): HostGrant | undefined {
    return this.#hosts.get(pub)
  }

  /** The grant of the host named `name`. */
  hostNamed (name: string): HostGrant | undefined {
    return this.#byName.get(name)
  }

  /** The read scope `key` is sealed under (the longest matching prefix), if any. */
  scopeOf (key: string): Scope | undefined {
    return this.#scopes.find(s => key.startsWith(s.prefix))
  }

  /** Whether a value of `key` may be sealed under `kid`: any key id when no scope covers it. */
  sealable (key: string, kid: string): boolean {
    const scope = this.scopeOf(key)
    return scope === undefined || scope.kids.includes(kid)
  }
}
