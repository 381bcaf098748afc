/**
 * What this host may do and can open, as the policy in force stands: the
 * keys it writes records with (each key's read scope, its host key once a
 * policy is in force), what its own node refuses before publishing, what it
 * may read and which values it holds a key of. In open mode (no policy),
 * everything but the register's own keys.
 */
import type { Authenticator } from '../authenticator.js'
import { CredregError } from '../errors.js'
import type { KeyRing } from '../key-ring.js'
import type { RecordKeys } from '../records/record.js'
import type { Sealer } from '../seal.js'
import { POLICY_KEY, RESERVED_PREFIX, within, type PolicyInForce } from './policy.js'
import type { SigningKey } from './signing-key.js'

export interface HostAccessOptions {
  /** The data keys this host holds: the namespace's and those of the read scopes it reads. */
  keys: KeyRing
  /** The host key: signs what this host writes once a policy is in force. */
  hostKey: SigningKey
  authenticator: Authenticator
  /** The policy in force now (`undefined`: open mode). */
  policy: () => PolicyInForce | undefined
}

export class HostAccess {
  readonly #keys: KeyRing
  readonly #hostKey: SigningKey
  readonly #authenticator: Authenticator
  readonly #policy: () => PolicyInForce | undefined

  constructor ({ keys, hostKey, authenticator, policy }: HostAccessOptions) {
    this.#keys = keys
    this.#hostKey = hostKey
    this.#authenticator = authenticator
    this.#policy = policy
  }

  /** This host's public key: what its records are signed under. */
  get publicKey (): string { return this.#hostKey.publicKey }
  /** The ids of the data keys this host holds, the namespace's first. */
  get keyIds (): string[] { return this.#keys.kids }
  /** The namespace data key's sealer. */
  get primary (): Sealer { return this.#keys.primary }

  /** The sealer that opens a value of `key` sealed under `kid`; `FORBIDDEN` when this host holds no such key. */
  opener (key: string, kid: string): Sealer {
    return this.#keys.require(kid, key, this.#policy()?.scopeOf(key)?.prefix)
  }

  /**
   * What this host writes records with: in open mode, the namespace key and
   * no signature; under a policy, each key's value sealed under its read
   * scope's current key (`FORBIDDEN` when this host does not hold it), the
   * record signed by the host key.
   */
  recordKeys (): RecordKeys {
    const policy = this.#policy()
    if (policy === undefined) return { sealerFor: () => this.#keys.primary, authenticator: this.#authenticator }
    return {
      sealerFor: key => {
        const scope = policy.scopeOf(key)
        return scope === undefined ? this.#keys.primary : this.#keys.require(scope.kids[0] as string, key, scope.prefix)
      },
      authenticator: this.#authenticator,
      signer: this.#hostKey
    }
  }

  /**
   * Why the policy in force would refuse this host (as `nodeId`) writing
   * `keys` (and, with `rotations`, deciding a rotation): a `FORBIDDEN`
   * error naming what is missing, or `undefined` when allowed (always, in
   * open mode, but for the register's own keys).
   */
  forbidden (nodeId: string, keys: string[], rotations = false): CredregError | undefined {
    const reserved = keys.find(k => k.startsWith(RESERVED_PREFIX))
    if (reserved !== undefined) return new CredregError('FORBIDDEN', `${reserved}: keys under ${RESERVED_PREFIX} are the register's own`, { key: reserved })
    const policy = this.#policy()
    if (policy === undefined) return undefined
    const host = policy.host(this.#hostKey.publicKey)
    if (host === undefined) return new CredregError('FORBIDDEN', `policy version ${policy.version} does not grant this host (key ${this.#hostKey.publicKey})`)
    if (host.name !== nodeId) return new CredregError('FORBIDDEN', `policy version ${policy.version} grants this host's key as ${host.name}, but its node id is ${nodeId}`)
    if (rotations && !host.rotations) return new CredregError('FORBIDDEN', `policy version ${policy.version} does not let ${host.name} stage, release or abort rotations`)
    const denied = keys.find(k => !within(k, host.write))
    return denied === undefined ? undefined : new CredregError('FORBIDDEN', `policy version ${policy.version} does not let ${host.name} write ${denied}`, { key: denied })
  }

  /** Whether the policy in force lets this host read `key` (always in open mode; the policy itself always). */
  readable (key: string): boolean {
    const policy = this.#policy()
    if (policy === undefined || key === POLICY_KEY) return true
    const host = policy.host(this.#hostKey.publicKey)
    return host !== undefined && within(key, host.read)
  }

  /**
   * Why this host cannot open a value of `key` sealed under `kid` (a key it
   * does not hold; a key the policy retired), or `undefined` when it can or
   * there is no value (`kid` undefined).
   */
  unreadable (key: string, kid: string | undefined): string | undefined {
    if (kid === undefined || this.#keys.sealer(kid) !== undefined) return undefined
    const scope = this.#policy()?.scopeOf(key)
    if (scope?.retired?.includes(kid) === true) return `sealed under key id ${kid}, retired`
    return `sealed under key id ${kid}, which this host does not hold${scope === undefined ? '' : ` (read scope ${JSON.stringify(scope.prefix)})`}`
  }

  /** Whether this host may and can show a value of `key` sealed under `kid`: it may read the key, and holds the value's key. */
  canOpen (key: string, kid: string | undefined): boolean {
    return this.readable(key) && this.unreadable(key, kid) === undefined
  }
}
