/**
 * Turns what went wrong on the wire into the typed errors of lib/errors.ts:
 * an HTTP error response through `errorFromJSON`, a transport failure into
 * `UNAVAILABLE` or `TIMEOUT`.
 */
import { CredregError, ERROR_CODES, errorFromJSON } from '../errors.js'

/** An error response: its status, its raw body, and the key the request was about. */
export interface ErrorResponse {
  status: number
  body: string
  key?: string
}

/**
 * Rebuilds the typed error of an HTTP error response. A JSON `{ code, message, ... }`
 * body keeps its code and details (except `CLOSED`, which becomes `UNAVAILABLE`:
 * `CLOSED` from a client means the client was closed); anything else falls back
 * to the most general code of the status.
 */
export function errorFromResponse ({ status, body, key }: ErrorResponse): CredregError {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    parsed = undefined
  }
  const json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  const message = typeof json?.message === 'string' ? json.message : `HTTP ${status}${body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`}`
  let code = typeof json?.code === 'string' && json.code in ERROR_CODES ? json.code : undefined
  // The daemon's node is closing (it is shutting down): for the caller, whose client is open, the daemon is unavailable.
  if (code === 'CLOSED') code = 'UNAVAILABLE'
  return errorFromJSON({ ...(key !== undefined ? { key } : {}), ...json, message, ...(code !== undefined ? { code } : {}) }, status)
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED',
  // A response cut off mid-body (the daemon died while streaming) reaches undici's parser as an early EOF.
  'HPE_INVALID_EOF_STATE'
])
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
// The daemon's certificate failed verification: retrying cannot help, the client needs the right CA.
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'ERR_TLS_CERT_ALTNAME_INVALID'
])

/**
 * Maps a failure of the transport (no HTTP response) to `UNAVAILABLE` or
 * `TIMEOUT`, and a daemon certificate that fails verification to
 * `INVALID_CONFIG`, keeping the original as `cause`. `target` names the daemon in the message.
 */
export function errorFromTransport (err: unknown, target: string): CredregError {
  if (err instanceof CredregError) return err
  const code = transportCode(err)
  const detail = err instanceof Error ? err.message : String(err)
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new CredregError('TIMEOUT', `credregd at ${target} did not answer in time (${detail})`, { cause: err })
  }
  if (code !== undefined && UNTRUSTED_CODES.has(code)) {
    return new CredregError('INVALID_CONFIG', `the certificate of credregd at ${target} is not trusted (${code}: ${detail}); give the CA that signed it (the ca option, credreg --ca or CREDREG_CA)`, { cause: err })
  }
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
    return new CredregError('UNAVAILABLE', `credregd at ${target} cannot be reached (${code}: ${detail})`, { cause: err })
  }
  return new CredregError('INTERNAL', `request to credregd at ${target} failed: ${detail}`, { cause: err })
}

/** The `code` of an error or, for wrapped errors (AggregateError, `cause`), of the first one that has one. */
function transportCode (err: unknown): string | undefined {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || TIMEOUT_CODES.has(code) || UNTRUSTED_CODES.has(code))) return code
    // undici's parser error carries no code for an early EOF (its code table maps the other way).
    if (e instanceof Error && e.name === 'HTTPParserError' && /EOF/.test(e.message)) return 'HPE_INVALID_EOF_STATE'
    if (e instanceof AggregateError) queue.push(...e.errors)
    queue.push((e as { cause?: unknown }).cause)
  }
  return undefined
}
