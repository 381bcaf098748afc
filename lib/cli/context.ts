/**
 * What a command runs with: the printer, the process streams, the global
 * options, and a client connected on first use and closed after the command.
 */
import type { CredregClient } from '../client/client.js'
import { CredregError, isCredregError } from '../errors.js'
import type { CliIo } from './io.js'
import { Output } from './output.js'
import { resolveAdminTarget, resolveTarget, type Target, type TargetOptions } from './target.js'

/** The options every command takes. */
export interface GlobalOptions extends TargetOptions {
  json: boolean
}

/** A command: reads its operands and options from `input`, prints through `ctx.out`; failures are thrown. */
export type Runner<I> = (ctx: CommandContext, input: I) => Promise<void>

/** The context of one command run; {@link CommandContext.close} ends it. */
export class CommandContext {
  readonly out: Output
  readonly io: CliIo
  readonly globals: GlobalOptions
  /** The exit code of a command that ran to its end (`credreg exec`: its child's); 0 unless set. */
  exitCode = 0
  #client: CredregClient | undefined
  #target: Target | undefined
  readonly #cleanups: Array<() => void> = []

  constructor (io: CliIo, globals: GlobalOptions) {
    this.io = io
    this.globals = globals
    this.out = new Output(io, globals.json)
  }

  /** The client of the daemon the global options (or their defaults) name. */
  async client (): Promise<CredregClient> {
    if (this.#client === undefined) {
      this.#target = await resolveTarget(this.globals, this.io.env)
      const { connect } = await import('../client/client.js')
      this.#client = connect(this.#target.connect)
    }
    return this.#client
  }

  /** The client of the daemon's admin socket (the admin commands), instead of {@link client}. */
  async adminClient (): Promise<CredregClient> {
    if (this.#client === undefined) {
      this.#target = await resolveAdminTarget(this.globals, this.io.env)
      const { connect } = await import('../client/client.js')
      this.#client = connect(this.#target.connect)
    }
    return this.#client
  }

  /** Aborts on the first SIGINT or SIGTERM, for commands that run until interrupted. */
  interrupted (): AbortSignal {
    const controller = new AbortController()
    const stop = (): void => controller.abort()
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, stop)
      this.#cleanups.push(() => process.off(signal, stop))
    }
    return controller.signal
  }

  /**
   * `err`, with a hint when the daemon could not be reached on the default
   * socket: most likely none is running, or it listens elsewhere.
   */
  explain (err: unknown): unknown {
    if (!isCredregError(err, 'UNAVAILABLE') || this.#target?.isDefault !== true) return err
    const hint = 'is a daemon running? Start one with `credreg dev`, or name its socket with --socket or CREDREG_SOCKET (its admin socket: --admin-socket or CREDREG_ADMIN_SOCKET)'
    return new CredregError('UNAVAILABLE', `${err.message}; ${hint}`, { cause: err })
  }

  /** Closes the client and removes signal handlers. */
  async close (): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0)) cleanup()
    await this.#client?.close()
  }
}
