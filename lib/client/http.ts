/**
 * The request helper of the client: one undici Agent per client, over a unix
 * socket or TCP (with a bearer token), a time bound per request, and every
 * failure turned into a typed error.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import { isLoopback } from '../daemon/listen.js'
import { CredregError } from '../errors.js'
import { errorFromResponse, errorFromTransport } from './error-codec.js'

/** Where the daemon is: its unix socket (with a scoped token once the daemon has tokens), or a TCP URL, a bearer token and the CA to trust. */
export type HttpTarget = { socket: string, token?: string } | { url: string, token: string, ca?: string | Buffer }

/** One request; `path` is already encoded and carries its query. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  headers?: Record<string, string>
  body?: string
  /** The key the request is about, for the errors it may raise. */
  key?: string
  /** Longest silence between body chunks of a streamed response. */
  idleTimeoutMs?: number
  /** Bound of this request instead of the client's (0: none), for work that takes as long as it takes. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** A successful (status < 400) response with its body read as JSON. */
export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  json: unknown
}

/** A successful response whose body is left to the caller. */
export interface HttpStream {
  status: number
  headers: IncomingHttpHeaders
  body: Dispatcher.ResponseData['body']
}

export class Http {
  /** The daemon, as named in error messages. */
  readonly target: string
  readonly #agent: Agent
  readonly #origin: string
  readonly #basePath: string
  readonly #headers: Record<string, string>
  readonly #timeoutMs: number
  readonly #closing = new AbortController()

  constructor (target: HttpTarget, timeoutMs: number) {
    this.#timeoutMs = timeoutMs
    if ('socket' in target) {
      this.target = target.socket
      this.#agent = new Agent({ connect: { socketPath: target.socket } })
      this.#origin = 'http://localhost'
      this.#basePath = ''
      this.#headers = target.token !== undefined ? { authorization: `Bearer ${target.token}` } : {}
    } else {
      const url = new URL(target.url)
      assertSafeTransport(url, target.ca)
      this.target = url.origin
      this.#agent = new Agent(target.ca !== undefined ? { connect: { ca: target.ca } } : {})
      this.#origin = url.origin
      this.#basePath = url.pathname.replace(/\/+$/, '')
      this.#headers = { authorization: `Bearer ${target.token}` }
    }
  }

  /** Aborts once {@link Http.close} is called, with the `CLOSED` error as its reason. */
  get closed (): AbortSignal {
    return this.#closing.signal
  }

  /**
   * Sends a request and reads its JSON body; an error status becomes its typed
   * error. A GET that meets a connection the daemon has just closed is sent once more.
   */
  async request (req: HttpRequest): Promise<HttpResponse> {
    const read = async (res: Dispatcher.ResponseData): Promise<HttpResponse> => {
      const text = await res.body.text()
      return { status: res.statusCode, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) }
    }
    try {
      return await this.#send(req, read)
    } catch (err) {
      if (req.method !== 'GET' || !isStaleConnection(err)) throw err
      return await this.#send(req, read)
    }
  }

  /** Sends a request and hands over its body as a stream; the time bound covers the headers only, then `idleTimeoutMs` applies. */
  async stream (req: HttpRequest): Promise<HttpStream> {
    return await this.#send(req, (res) => ({ status: res.statusCode, headers: res.headers, body: res.body }), true)
  }

  /** Ends every request in flight with `CLOSED` and closes the connections. */
  async close (): Promise<void> {
    if (this.#closing.signal.aborted) return
    this.#closing.abort(new CredregError('CLOSED', 'the client has been closed'))
    await this.#agent.destroy()
  }

  async #send<T>(req: HttpRequest, read: (res: Dispatcher.ResponseData) => T | Promise<T>, streaming = false): Promise<T> {
    if (this.#closing.signal.aborted) throw this.#closing.signal.reason
    const timeoutMs = req.timeoutMs ?? this.#timeoutMs
    // One signal per request, fed by the time bound, the client's close and the caller's signal.
    // (AbortSignal.any would tie every request to the client's long-lived close signal: in Node 20
    // that costs tens of microseconds a request and keeps each one until it is collected.)
    const abort = new AbortController()
    const timeout = timeoutMs > 0
      ? setTimeout(() => abort.abort(new CredregError('TIMEOUT', `credregd at ${this.target} did not answer within ${timeoutMs} ms`)), timeoutMs)
      : undefined
    const sources = req.signal !== undefined ? [this.#closing.signal, req.signal] : [this.#closing.signal]
    const forward = (event: Event): void => { abort.abort((event.target as AbortSignal).reason) }
    const untie = (): void => { for (const source of sources) source.removeEventListener('abort', forward) }
    let streamed = false
    for (const source of sources) {
      if (source.aborted) abort.abort(source.reason)
      else source.addEventListener('abort', forward, { once: true })
    }
    const headers: Record<string, string> = { ...this.#headers, ...req.headers }
    if (req.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
    try {
      const res = await this.#agent.request({
        origin: this.#origin,
        path: this.#basePath + req.path,
        method: req.method,
        headers,
        body: req.body,
        signal: abort.signal,
        ...(streaming ? { headersTimeout: req.idleTimeoutMs, bodyTimeout: req.idleTimeoutMs } : {}),
        ...(timeoutMs === 0 && !streaming ? { headersTimeout: 0 } : {})
      })
      if (streaming) {
        clearTimeout(timeout)
        // The body outlives this call: it stays tied to the client's close and the caller's signal until it closes.
        res.body.once('close', untie)
        streamed = true
      }
      if (res.statusCode >= 400) {
        const body = await res.body.text()
        throw errorFromResponse({ status: res.statusCode, body, ...(req.key !== undefined ? { key: req.key } : {}) })
      }
      return await read(res)
    } catch (err) {
      if (req.signal?.aborted === true && err === req.signal.reason) throw err
      throw errorFromTransport(err, this.target)
    } finally {
      clearTimeout(timeout)
      if (!streamed) untie()
    }
  }
}

/**
 * Refuses, before any connection, to send a bearer token in clear over the
 * network: plain HTTP is for loopback addresses only.
 */
function assertSafeTransport (url: URL, ca: string | Buffer | undefined): void {
  if (url.protocol === 'https:') return
  if (ca !== undefined) throw new TypeError(`ca applies to https: URLs only, not ${url.origin}`)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (!isLoopback(host)) {
    throw new CredregError('INVALID_CONFIG', `refusing to send the bearer token over plain HTTP to ${url.host}, which is not a loopback address; use an https: URL (credregd --tls-cert/--tls-key)`)
  }
}

/** A failure on a kept-alive connection the other side closed, before any answer. */
function isStaleConnection (err: unknown): boolean {
  const code = err instanceof CredregError ? (err.cause as { code?: unknown } | undefined)?.code : undefined
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
}
