/**
 * The one error catalogue. Every failure credreg reports to a caller is a
 * {@link CredregError} with a stable `code`; codes never change, messages may.
 * The HTTP status, the retryable flag and the CLI exit code of each code live
 * here too, so the daemon, the client and the CLI cannot drift apart.
 */

/** Everything known about one error code. */
export interface ErrorSpec {
  /** HTTP status the daemon answers with. */
  readonly status: number
  /** Exit code of the `credreg` CLI. */
  readonly exit: number
  /** Whether repeating the same call later may succeed. */
  readonly retryable: boolean
  /** One line for the README and `--help`. */
  readonly summary: string
}

export const ERROR_CODES = {
  INVALID_KEY: { status: 400, exit: 2, retryable: false, summary: 'The key does not follow the key syntax.' },
  INVALID_VALUE: { status: 400, exit: 2, retryable: false, summary: 'The value is not a JSON object.' },
  VALUE_TOO_LARGE: { status: 413, exit: 2, retryable: false, summary: 'The serialized value (or request body) is over the size limit, or the value nests too deep.' },
  BAD_REQUEST: { status: 400, exit: 2, retryable: false, summary: 'The request or its options are malformed.' },
  NOT_FOUND: { status: 404, exit: 4, retryable: false, summary: 'No such key, or no such version of it.' },
  VERSION_CONFLICT: { status: 412, exit: 3, retryable: false, summary: 'The write was conditional on a version that is no longer the latest.' },
  PATCH_FAILED: { status: 422, exit: 2, retryable: false, summary: 'The patch is invalid or cannot be applied to the current value.' },
  ROTATION_REFUSED: { status: 409, exit: 3, retryable: false, summary: 'A rotation\'s stage, acknowledgement, release or abort was refused: the rotation is closed, the host is not one it waits for, acknowledgements are missing or failed, a staged key moved, or a key is staged by another open rotation.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 2, retryable: false, summary: 'The request body has a content type this route does not take.' },
  UNAUTHORIZED: { status: 401, exit: 1, retryable: false, summary: 'A request without a valid bearer token (the TCP listener; the apps\' socket once the daemon has tokens).' },
  FORBIDDEN: { status: 403, exit: 7, retryable: false, summary: 'Not allowed: the policy does not grant this host (or the request\'s token) the key or the act, or this host holds no key that opens the value.' },
  UNAVAILABLE: { status: 503, exit: 5, retryable: true, summary: 'The change log (NATS) or the daemon cannot be reached; reads from the replica still work.' },
  TIMEOUT: { status: 504, exit: 5, retryable: true, summary: 'The operation did not complete within its time bound.' },
  LOG_DIVERGED: { status: 503, exit: 5, retryable: false, summary: 'The change log is not the one this replica was built from (stream deleted, recreated or rolled back); writes are refused.' },
  RESEED_REFUSED: { status: 409, exit: 6, retryable: false, summary: 'A reseed was refused: the change log matches this replica, or holds another history, or the node is standalone.' },
  WATCH_OVERFLOW: { status: 503, exit: 5, retryable: true, summary: 'A watcher fell further behind than its queue limit (or its connection took nothing for too long) and was closed; resume from the last sequence processed.' },
  DATA_DIR_LOCKED: { status: 503, exit: 1, retryable: true, summary: 'The data directory is in use by another process (another daemon or node).' },
  CLOSED: { status: 503, exit: 1, retryable: false, summary: 'The node or client has been closed.' },
  INVALID_CONFIG: { status: 500, exit: 2, retryable: false, summary: 'A configuration value or the key file is invalid.' },
  INTERNAL: { status: 500, exit: 1, retryable: false, summary: 'An unexpected failure; the message says what happened.' }
} as const satisfies Record<string, ErrorSpec>

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES

/** Why one key of a refused changeset failed (as `KeyFailure` in lib/shapes/changeset.ts). */
export interface KeyFailureDetail {
  key: string
  code: string
  message: string
  expectedVersion?: number
  currentVersion?: number
}

/** Extra details some codes carry. */
export interface ErrorDetails {
  key?: string
  expectedVersion?: number
  currentVersion?: number
  /** A refused changeset: every key that failed, and why. */
  failures?: KeyFailureDetail[]
}

/** The base of every error credreg reports. */
export class CredregError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly key?: string

  constructor (code: ErrorCode, message: string, options?: ErrorOptions & { key?: string }) {
    super(message, options)
    this.name = 'CredregError'
    this.code = code
    const spec = ERROR_CODES[code]
    this.status = spec.status
    this.retryable = spec.retryable
    if (options?.key !== undefined) this.key = options.key
  }

  /** The JSON body the HTTP API answers with. */
  toJSON (): { code: ErrorCode, message: string } & ErrorDetails {
    return { code: this.code, message: this.message, ...(this.key !== undefined ? { key: this.key } : {}) }
  }
}

/** A conditional write lost: `expectedVersion` is not the latest, `currentVersion` is (0 when the key never existed). */
export class VersionConflictError extends CredregError {
  readonly expectedVersion: number | undefined
  readonly currentVersion: number

  constructor (key: string, expectedVersion: number | undefined, currentVersion: number, options?: ErrorOptions) {
    const expected = expectedVersion === undefined ? 'the key to be absent' : `version ${expectedVersion}`
    super('VERSION_CONFLICT', `${key}: expected ${expected}, but the latest version is ${currentVersion}`, { ...options, key })
    this.name = 'VersionConflictError'
    this.expectedVersion = expectedVersion
    this.currentVersion = currentVersion
  }

  override toJSON (): { code: ErrorCode, message: string } & ErrorDetails {
    return { ...super.toJSON(), ...(this.expectedVersion !== undefined ? { expectedVersion: this.expectedVersion } : {}), currentVersion: this.currentVersion }
  }
}

// Which code a refused changeset answers with when its keys failed for several reasons: the one to act on first.
const CHANGESET_CODE_ORDER: readonly ErrorCode[] = ['FORBIDDEN', 'VERSION_CONFLICT', 'NOT_FOUND', 'PATCH_FAILED', 'INVALID_VALUE', 'VALUE_TOO_LARGE', 'INVALID_KEY', 'BAD_REQUEST']

/**
 * A changeset refused before anything was written: `failures` lists every key
 * whose condition or change failed (its code, message and, for a conflict,
 * the expected and current versions). The error's own code is the first of
 * VERSION_CONFLICT, NOT_FOUND, PATCH_FAILED, … that any key failed with.
 */
export class ChangesetError extends CredregError {
  readonly failures: KeyFailureDetail[]

  constructor (failures: KeyFailureDetail[], options?: ErrorOptions) {
    const codes = new Set(failures.map(f => f.code))
    const code = CHANGESET_CODE_ORDER.find(c => codes.has(c)) ?? 'BAD_REQUEST'
    // Most messages name their key already ("a/b: expected version 2, …", "a/b does not exist").
    const listed = failures.map(f => f.message.startsWith(f.key) ? f.message : `${f.key}: ${f.message}`).join('; ')
    super(code, `the changeset was refused, nothing was written (${failures.length} key${failures.length === 1 ? '' : 's'} failed): ${listed}`, options)
    this.name = 'ChangesetError'
    this.failures = failures
  }

  /** The failures as keys to versions lost: for a conflict, which key moved and where it is now. */
  override toJSON (): { code: ErrorCode, message: string } & ErrorDetails {
    return { ...super.toJSON(), failures: this.failures }
  }
}

/** One key's failure in a changeset, from the typed error it would have been alone. */
export function keyFailureOf (key: string, err: CredregError): KeyFailureDetail {
  const versions = err instanceof VersionConflictError
    ? { ...(err.expectedVersion !== undefined ? { expectedVersion: err.expectedVersion } : {}), currentVersion: err.currentVersion }
    : {}
  return { key, code: err.code, message: err.message, ...versions }
}

/** True when `err` is a {@link CredregError}, optionally of the given code. */
export function isCredregError (err: unknown, code?: ErrorCode): err is CredregError {
  return err instanceof CredregError && (code === undefined || err.code === code)
}

/**
 * Rebuilds a typed error from its JSON form (what the HTTP API sends), so a
 * client sees the same classes and fields as an in-process caller.
 */
export function errorFromJSON (body: unknown, fallbackStatus?: number): CredregError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const message = typeof b.message === 'string' ? b.message : 'unknown error'
  const code = typeof b.code === 'string' && b.code in ERROR_CODES ? (b.code as ErrorCode) : codeForStatus(fallbackStatus)
  const key = typeof b.key === 'string' ? b.key : undefined
  if (Array.isArray(b.failures)) {
    const failures = b.failures.filter(isKeyFailure)
    if (failures.length > 0) {
      const err = new ChangesetError(failures)
      err.message = message
      return err
    }
  }
  if (code === 'VERSION_CONFLICT') {
    const expected = typeof b.expectedVersion === 'number' ? b.expectedVersion : undefined
    const current = typeof b.currentVersion === 'number' ? b.currentVersion : 0
    const err = new VersionConflictError(key ?? '', expected, current)
    err.message = message
    return err
  }
  return new CredregError(code, message, key !== undefined ? { key } : undefined)
}

function isKeyFailure (f: unknown): f is KeyFailureDetail {
  const o = f as Record<string, unknown> | null
  return typeof o === 'object' && o !== null && typeof o.key === 'string' && typeof o.code === 'string' && o.code in ERROR_CODES && typeof o.message === 'string' &&
    (o.expectedVersion === undefined || typeof o.expectedVersion === 'number') && (o.currentVersion === undefined || typeof o.currentVersion === 'number')
}

// Statuses that several codes share map to their most general code.
const GENERAL_CODES: Partial<Record<number, ErrorCode>> = { 400: 'BAD_REQUEST', 500: 'INTERNAL', 503: 'UNAVAILABLE' }

function codeForStatus (status: number | undefined): ErrorCode {
  const general = status === undefined ? undefined : GENERAL_CODES[status]
  if (general !== undefined) return general
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    if (spec.status === status) return code as ErrorCode
  }
  return 'INTERNAL'
}

/** The CLI exit code for an error (1 for anything that is not a {@link CredregError}). */
export function exitCodeFor (err: unknown): number {
  return err instanceof CredregError ? ERROR_CODES[err.code].exit : 1
}
