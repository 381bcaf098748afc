/**
 * Credentials in NATS server URLs (`nats://user:pass@host:4222`,
 * `nats://token@host`): taken out before the URL goes anywhere else, and
 * replaced by `[redacted]` wherever a URL is shown.
 */

/** A server URL without its credentials, and the credentials it carried. */
export interface SplitUrl {
  server: string
  user?: string
  pass?: string
  token?: string
}

/**
 * Splits the credentials off `url`: `user:pass@` gives user and password,
 * a lone `token@` a token (the NATS URL conventions). A string that is not a
 * URL with credentials comes back as it is.
 */
export function splitCredentials (url: string): SplitUrl {
  const parsed = parse(url)
  if (parsed === undefined || (parsed.username === '' && parsed.password === '')) return { server: url }
  const user = decodeURIComponent(parsed.username)
  const pass = decodeURIComponent(parsed.password)
  parsed.username = ''
  parsed.password = ''
  const server = parsed.href.replace(/\/$/, '')
  return pass !== '' ? { server, user, pass } : { server, token: user }
}

/** `url` with any credentials replaced by `[redacted]`, for logs and status output. */
export function redactUrl (url: string): string {
  const at = url.lastIndexOf('@')
  if (at === -1) return url
  const scheme = url.indexOf('://')
  // Whatever precedes the host is credentials, parsable or not.
  return `${scheme === -1 ? '' : url.slice(0, scheme + 3)}[redacted]${url.slice(at)}`
}

function parse (url: string): URL | undefined {
  try {
    return new URL(url.includes('://') ? url : `nats://${url}`)
  } catch {
    return undefined
  }
}
