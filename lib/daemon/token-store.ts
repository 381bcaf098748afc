/**
 * The daemon's scoped tokens, kept in `<data-dir>/tokens.json` (mode 0600):
 * per token its name, scope, creation time and SHA-256, never the token
 * itself. The file is read once at start (anything but a valid file fails the
 * start with `INVALID_CONFIG`, naming the file, never quoting it) and
 * rewritten atomically (temp file, fsync, rename) on each change, one change
 * at a time; memory follows only once the file holds the change.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { Compile } from 'typebox/compile'
import { writeAtomic } from '../agent/atomic-write.js'
import { CredregError } from '../errors.js'
import { assertPrefix } from '../key.js'
import { readSecretFile } from '../secret-file.js'
import {
  MAX_TOKENS, TokenFileSchema, type CreatedToken, type CreateTokenBody, type TokenFile, type TokenInfo, type TokenRecord, type TokenScope
} from '../shapes/token.js'

/** Random bytes of a token (told base64url: 43 characters). */
const TOKEN_BYTES = 32

/** Largest tokens file: 256 tokens of 128 prefixes of 256 bytes fit with room to spare. */
const MAX_FILE_BYTES = 16 * 1024 * 1024

const checkFile = Compile(TokenFileSchema)

interface Held { record: TokenRecord, hash: Buffer }

/** The tokens of one daemon. */
export class TokenStore {
  readonly path: string
  #held: Held[]
  #queue: Promise<unknown> = Promise.resolve()
  readonly #onRevoke = new Set<(name: string) => void>()

  private constructor (path: string, records: TokenRecord[]) {
    this.path = path
    this.#held = records.map(held)
  }

  /** Reads `path` (none yet: no token); `INVALID_CONFIG` when it is not a valid tokens file. */
  static async open (path: string): Promise<TokenStore> {
    let bytes: Buffer
    try {
      bytes = await readSecretFile(path, 'tokens file', MAX_FILE_BYTES)
    } catch (err) {
      if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return new TokenStore(path, [])
      throw err
    }
    return new TokenStore(path, parseFile(path, bytes).tokens)
  }

  /** How many tokens there are: none means the apps' socket asks for none. */
  get size (): number {
    return this.#held.length
  }

  /** Every token's name, scope and creation time, by name. */
  list (): TokenInfo[] {
    return this.#held.map(({ record }) => info(record)).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  /**
   * The scope of `token`, or undefined when it is none of these. Every stored
   * hash is compared, in constant time, whatever matches.
   */
  find (token: string): TokenScope | undefined {
    const presented = digest(token)
    let found: TokenRecord | undefined
    for (const { record, hash } of this.#held) {
      if (timingSafeEqual(hash, presented)) found = record
    }
    return found === undefined ? undefined : scope(found)
  }

  /**
   * Mints a token for `body` and keeps its hash: resolves with the token, told
   * only here. `BAD_REQUEST` for a prefix that is not one, a taken name, or
   * one token too many.
   */
  async create (body: CreateTokenBody): Promise<CreatedToken> {
    const read = checkPrefixes(body.read ?? [], 'read')
    const write = checkPrefixes(body.write ?? [], 'write')
    return await this.#change(async () => {
      if (this.#held.some(({ record }) => record.name === body.name)) {
        throw new CredregError('BAD_REQUEST', `a token named ${body.name} exists already; revoke it first, or choose another name`)
      }
      if (this.#held.length >= MAX_TOKENS) throw new CredregError('BAD_REQUEST', `the daemon holds ${MAX_TOKENS} tokens, as many as it keeps; revoke one first`)
      const token = randomBytes(TOKEN_BYTES).toString('base64url')
      const record: TokenRecord = {
        name: body.name, read, write, rotations: body.rotations ?? false, createdAt: new Date().toISOString(), sha256: digest(token).toString('hex')
      }
      await this.#save([...this.#held.map(h => h.record), record])
      return { ...info(record), token }
    })
  }

  /** Revokes the token `name`: from this answer on, it is refused, and the streams it opened are ended. `NOT_FOUND` when there is none. */
  async revoke (name: string): Promise<TokenInfo> {
    return await this.#change(async () => {
      const gone = this.#held.find(({ record }) => record.name === name)
      if (gone === undefined) throw new CredregError('NOT_FOUND', `no token named ${JSON.stringify(name)}`)
      await this.#save(this.#held.filter(h => h !== gone).map(h => h.record))
      for (const listener of this.#onRevoke) listener(name)
      return info(gone.record)
    })
  }

  /**
   * Calls `listener` with the name of each token revoked from now on (after
   * the file no longer holds it), so what a token opened ends with it;
   * returns the function that stops the calls.
   */
  onRevoke (listener: (name: string) => void): () => void {
    this.#onRevoke.add(listener)
    return () => { this.#onRevoke.delete(listener) }
  }

  async #save (records: TokenRecord[]): Promise<void> {
    const file: TokenFile = { version: 1, tokens: records }
    await writeAtomic(this.path, Buffer.from(JSON.stringify(file, null, 2) + '\n'), { mode: 0o600 })
    this.#held = records.map(held)
  }

  /** Runs changes one after another, so none writes over another's file. */
  async #change<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run)
    this.#queue = result.catch(() => {})
    return await result
  }
}

/** The tokens file in `bytes`, checked; `INVALID_CONFIG` naming the file and the place at fault. */
function parseFile (path: string, bytes: Buffer): TokenFile {
  const invalid = (why: string): CredregError => new CredregError('INVALID_CONFIG', `tokens file ${path} is not valid: ${why}; restore it, or remove it to drop every token`)
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    // The parser's message quotes the text: it is not repeated.
    throw invalid('it is not JSON')
  }
  if (!checkFile.Check(json)) {
    throw invalid(schemaFault(checkFile.Errors(json)[0]))
  }
  const names = new Set<string>()
  const hashes = new Set<string>()
  json.tokens.forEach((record, i) => {
    if (names.has(record.name)) throw invalid(`tokens/${i}: a name is used twice`)
    if (hashes.has(record.sha256)) throw invalid(`tokens/${i}: a hash is used twice`)
    names.add(record.name)
    hashes.add(record.sha256)
    checkPrefixes(record.read, `tokens/${i}/read`, invalid)
    checkPrefixes(record.write, `tokens/${i}/write`, invalid)
  })
  return json
}

/** Where the file fails its schema, in the schema's own words: a name the file made up is never repeated. */
function schemaFault (error: { instancePath: string, schemaPath: string, message?: string } | undefined): string {
  if (error === undefined) return 'the document is invalid'
  const known = new Set(['version', 'tokens', 'name', 'read', 'write', 'rotations', 'createdAt', 'sha256'])
  const path = error.instancePath.split('/').slice(1)
  const kept = path.filter((segment, i) => /^\d+$/.test(segment) || (known.has(segment) && path.slice(0, i).every(s => /^\d+$/.test(s) || known.has(s))))
  if (kept.length < path.length || error.schemaPath.endsWith('/additionalProperties')) {
    return `${kept.length === 0 ? 'the document' : kept.join('/')} has a field the tokens file does not take`
  }
  return `${kept.length === 0 ? 'the document' : kept.join('/')} ${error.message ?? 'is invalid'}`
}

/** `prefixes`, each once, or the error `fail` makes of the first that is not a prefix (`BAD_REQUEST` unless said). */
function checkPrefixes (prefixes: string[], where: string, fail = (why: string): CredregError => new CredregError('BAD_REQUEST', why)): string[] {
  prefixes.forEach((prefix, i) => {
    const problem = prefixProblem(prefix)
    if (problem !== undefined) throw fail(`${where}[${i}] ${problem}`)
  })
  return [...new Set(prefixes)]
}

/** What is wrong with `prefix` as a scope's prefix (lib/key.ts `assertPrefix`, and not empty), without quoting it. */
function prefixProblem (prefix: string): string | undefined {
  if (prefix === '') return 'is empty: a scope names the prefixes it covers'
  try {
    assertPrefix(prefix)
    return undefined
  } catch {
    return 'is not a key prefix: at most 256 characters of A-Z a-z 0-9 _ . - /'
  }
}

function held (record: TokenRecord): Held {
  return { record, hash: Buffer.from(record.sha256, 'hex') }
}

function info ({ name, read, write, rotations, createdAt }: TokenRecord): TokenInfo {
  return { name, read, write, rotations, createdAt }
}

function scope ({ name, read, write, rotations }: TokenRecord): TokenScope {
  return { name, read, write, rotations }
}

/** Comparing fixed-length digests keeps the comparison constant-time whatever the lengths. */
function digest (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
