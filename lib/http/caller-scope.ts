/**
 * What the caller of one request may do. A caller with full rights (the
 * admin socket, the TCP listener's own token, the apps' socket while the
 * daemon has no token) may do anything; a caller with a scoped token reads
 * keys under its read prefixes, writes keys under its write prefixes, and
 * acts on rotations as its `rotations` flag says. Every check the HTTP API
 * makes of a caller is a method here; lib/http/route-access.ts says which
 * route needs which.
 */
import { CredregError } from '../errors.js'
import type { TokenScope } from '../shapes/token.js'

/** A caller's rights, attached to each request by the authentication hook (lib/http/auth.ts). */
export class CallerScope {
  /** The token's name; undefined for full rights. */
  readonly token: string | undefined
  readonly #scope: TokenScope | undefined
  static readonly #full = new CallerScope(undefined)

  private constructor (scope: TokenScope | undefined) {
    this.#scope = scope
    this.token = scope?.name
  }

  /** Full rights. */
  static full (): CallerScope {
    return CallerScope.#full
  }

  /** The rights of a scoped token. */
  static of (scope: TokenScope): CallerScope {
    return new CallerScope({ ...scope, read: [...scope.read], write: [...scope.write] })
  }

  /** Whether the caller has full rights (no token scope applies). */
  get isFull (): boolean {
    return this.#scope === undefined
  }

  /** Whether the caller may act on rotations (stage, release, abort) and see every rotation. */
  get rotations (): boolean {
    return this.#scope === undefined || this.#scope.rotations
  }

  /** Whether `key` lies under one of the read prefixes. */
  canRead (key: string): boolean {
    return this.#scope === undefined || within(key, this.#scope.read)
  }

  /** Whether `key` lies under one of the write prefixes. */
  canWrite (key: string): boolean {
    return this.#scope === undefined || within(key, this.#scope.write)
  }

  /** Whether every key a listing or watch of `prefix` can yield is readable: `prefix` starts with a read prefix. */
  canReadPrefix (prefix: string): boolean {
    return this.#scope === undefined || within(prefix, this.#scope.read)
  }

  /** Throws `FORBIDDEN` unless {@link canRead}. */
  assertRead (key: string): void {
    if (!this.canRead(key)) throw this.#forbidden(`no read grant covers the key ${key}`, key)
  }

  /** Throws `FORBIDDEN` unless {@link canWrite}. */
  assertWrite (key: string): void {
    if (!this.canWrite(key)) throw this.#forbidden(`no write grant covers the key ${key}`, key)
  }

  /** Throws `FORBIDDEN` unless {@link canReadPrefix}. */
  assertReadPrefix (prefix: string): void {
    if (!this.canReadPrefix(prefix)) {
      throw this.#forbidden(`no read grant covers every key under the prefix ${JSON.stringify(prefix)}; ask for a prefix within a read grant`)
    }
  }

  /** Throws `FORBIDDEN` unless the caller may `act` (stage, release, abort) on rotations. */
  assertRotations (act: string): void {
    if (!this.rotations) throw this.#forbidden(`the rotations grant is missing, which a rotation's ${act} needs`)
  }

  /** Whether the caller may see a rotation of `keys`: with `rotations`, or when it may read every one. */
  canSeeRotation (keys: readonly string[]): boolean {
    return this.rotations || keys.every(key => this.canRead(key))
  }

  #forbidden (what: string, key?: string): CredregError {
    return new CredregError('FORBIDDEN', `token ${this.token ?? ''}: ${what}`, key !== undefined ? { key } : undefined)
  }
}

function within (key: string, prefixes: readonly string[]): boolean {
  return prefixes.some(prefix => key.startsWith(prefix))
}
