/**
 * What `credreg agent --status-socket PATH` reports: per template its last
 * render (time, bytes, whether the file switched, the log sequence and the
 * correlation ids it took) and last failure, the last reload, and the change
 * waiting to be rendered or reloaded. It is served as JSON on `GET /healthz`
 * over a unix socket (mode 0600), 200 while every template's latest render
 * succeeded, else 503. No value of the register is ever in it.
 */
import { createServer, type Server } from 'node:http'
import { chmod, rm } from 'node:fs/promises'

/** One template's state. */
export interface TemplateStatus {
  destination: string
  /** The latest successful render. */
  lastRender?: { at: string, seq: number, bytes: number, changed: boolean, correlationIds: string[] }
  /** The latest failed render, kept until a render succeeds again. */
  lastError?: { at: string, seq: number, message: string }
}

/** The agent's state, as `GET /healthz` answers it. */
export interface AgentStatusReport {
  ok: boolean
  startedAt: string
  /** The log sequence of the latest change taken. */
  seq: number
  templates: TemplateStatus[]
  lastReload?: { at: string, code: number | null, switched: number, correlationIds: string[] }
  /** A change taken but not yet done: being rendered, waiting out the splay, or being reloaded. */
  pending?: { since: string, phase: 'rendering' | 'splay' | 'reloading', correlationIds: string[] }
}

/** The agent's state, updated as it works. */
export class AgentStatus {
  readonly #startedAt = new Date().toISOString()
  readonly #templates: Map<string, TemplateStatus>
  #seq = 0
  #lastReload: AgentStatusReport['lastReload']
  #pending: AgentStatusReport['pending']

  constructor (destinations: readonly string[]) {
    this.#templates = new Map(destinations.map(destination => [destination, { destination }]))
  }

  /** A change was taken at `seq`; it is pending until {@link done}. */
  taking (seq: number, correlationIds: string[]): void {
    this.#seq = seq
    if (correlationIds.length > 0) this.#pending = { since: new Date().toISOString(), phase: 'rendering', correlationIds }
  }

  /** The pending change moved on to `phase`. */
  phase (phase: 'splay' | 'reloading'): void {
    if (this.#pending !== undefined) this.#pending = { ...this.#pending, phase }
  }

  rendered (destination: string, seq: number, bytes: number, changed: boolean, correlationIds: string[]): void {
    this.#templates.set(destination, { destination, lastRender: { at: new Date().toISOString(), seq, bytes, changed, correlationIds } })
  }

  failed (destination: string, seq: number, message: string): void {
    const current = this.#templates.get(destination) ?? { destination }
    this.#templates.set(destination, { ...current, lastError: { at: new Date().toISOString(), seq, message } })
  }

  reloaded (code: number | null, switched: number, correlationIds: string[]): void {
    this.#lastReload = { at: new Date().toISOString(), code, switched, correlationIds }
  }

  /** The pending change is done. */
  done (): void {
    this.#pending = undefined
  }

  report (): AgentStatusReport {
    const templates = [...this.#templates.values()]
    return {
      ok: templates.every(t => t.lastRender !== undefined && t.lastError === undefined),
      startedAt: this.#startedAt,
      seq: this.#seq,
      templates,
      ...(this.#lastReload !== undefined ? { lastReload: this.#lastReload } : {}),
      ...(this.#pending !== undefined ? { pending: this.#pending } : {})
    }
  }
}

/** Serves `status` on `GET /healthz` at the unix socket `path` (a stale socket there is replaced); resolves once listening. */
export async function serveStatus (path: string, status: AgentStatus): Promise<AsyncDisposable & { close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found: GET /healthz' }))
      return
    }
    const report = status.report()
    res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report))
  })
  await rm(path, { force: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
  await chmod(path, 0o600)
  const close = async (): Promise<void> => {
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
    await rm(path, { force: true })
  }
  return { close, [Symbol.asyncDispose]: close }
}
