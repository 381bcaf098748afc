/**
 * The child of `credreg exec`: started with its environment, signalled, or
 * restarted (stop signal, grace period, SIGKILL; the old child gone before
 * the new one starts). It resolves `exited` with the child's exit code
 * (128 + n after signal n) when the child ends by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { deferred } from '../deferred.js'
import { signalNumber } from './shell.js'

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  command: string
  args: string[]
  /** The signal that stops the child for a restart (default SIGTERM). */
  stopSignal?: NodeJS.Signals
  /** How long a stopped child may take before SIGKILL (default 10 s). */
  graceMs?: number
}

/** One child at a time. */
export class Supervisor {
  readonly #options: SupervisorOptions
  #child: ChildProcess | undefined
  #stopping: ChildProcess | undefined
  readonly #exited = deferred<number>()

  constructor (options: SupervisorOptions) {
    this.#options = options
  }

  /** Resolves with the exit code of a child that ended without being stopped for a restart. */
  get exited (): Promise<number> {
    return this.#exited.promise
  }

  /** The running child's pid. */
  get pid (): number | undefined {
    return this.#child?.pid
  }

  /** Starts the child with `env` over this process's environment. */
  start (env: Record<string, string>): void {
    const child = spawn(this.#options.command, this.#options.args, { env: { ...process.env, ...env }, stdio: 'inherit' })
    this.#child = child
    child.once('error', () => { if (this.#stopping !== child) this.#exited.resolve(127) })
    child.once('exit', (code, signal) => {
      if (this.#stopping === child) return
      this.#exited.resolve(code ?? 128 + signalNumber(signal))
    })
  }

  /** Sends `signal` to the running child. */
  signal (signal: NodeJS.Signals): void {
    if (this.#child?.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
  }

  /** Stops the child (stop signal, then SIGKILL after the grace period) and, once it is gone, starts a new one with `env`. */
  async restart (env: Record<string, string>): Promise<void> {
    const child = this.#child
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      this.#stopping = child
      const gone = new Promise(resolve => child.once('exit', resolve))
      child.kill(this.#options.stopSignal ?? 'SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.graceMs ?? 10_000)
      await gone
      clearTimeout(timer)
    }
    this.start(env)
  }
}
