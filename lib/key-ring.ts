/**
 * The data keys a host holds: the namespace's, and the keys of the read
 * scopes it may read (and of rotated keys not yet retired). A value is
 * opened by the key its key id names; a host that holds no such key cannot
 * open it, and says so without guessing.
 */
import { CredregError } from './errors.js'
import { Sealer } from './seal.js'

export class KeyRing {
  /** The namespace data key's sealer: what values are sealed under in open mode. */
  readonly primary: Sealer
  readonly #byKid: Map<string, Sealer>

  constructor (dataKey: Uint8Array, scopeKeys: Uint8Array[] = []) {
    this.primary = new Sealer(dataKey)
    this.#byKid = new Map([this.primary, ...scopeKeys.map(k => new Sealer(k))].map(s => [s.kid, s]))
  }

  /** The ids of every key held, the namespace's first. */
  get kids (): string[] {
    return [...this.#byKid.keys()]
  }

  /** The sealer of key id `kid`, when held. */
  sealer (kid: string): Sealer | undefined {
    return this.#byKid.get(kid)
  }

  /** The sealer of key id `kid`; `FORBIDDEN` when this host does not hold it. */
  require (kid: string, key: string, scope: string | undefined): Sealer {
    const sealer = this.#byKid.get(kid)
    if (sealer !== undefined) return sealer
    const where = scope === undefined ? '' : ` of the read scope ${JSON.stringify(scope)}`
    throw new CredregError('FORBIDDEN', `${key}: this host holds no key with id ${kid}${where}`, { key })
  }
}
