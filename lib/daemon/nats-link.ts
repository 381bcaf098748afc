/**
 * The daemon's own NATS connection (for heartbeats and peer queries),
 * established in the background so the daemon starts while NATS is
 * unreachable; once up, nats.js reconnects on its own.
 */
import type { NatsConnection } from '@nats-io/nats-core'
import { connectWithBackoff } from '../log/connect.js'
import type { Logger, NatsOptions } from '../types.js'

export class NatsLink {
  readonly #stop = new AbortController()
  readonly #connected: Promise<NatsConnection | undefined>
  #nc: NatsConnection | undefined

  /** Starts connecting with `options`; failures are logged (once per distinct reason) and retried. */
  constructor (options: NatsOptions, logger: Logger) {
    this.#connected = this.#connect(options, logger)
  }

  /** Resolves with the connection once established, or `undefined` if closed first. */
  get connected (): Promise<NatsConnection | undefined> {
    return this.#connected
  }

  async #connect (options: NatsOptions, logger: Logger): Promise<NatsConnection | undefined> {
    let lastReason = ''
    const nc = await connectWithBackoff(options, this.#stop.signal, err => {
      if (err.message !== lastReason) logger.warn({ err }, 'cannot connect to NATS yet; retrying in the background')
      lastReason = err.message
    })
    if (nc === undefined) return undefined
    // Closed while the last attempt was settling: close() found nothing to drain.
    if (this.#stop.signal.aborted) {
      await nc.close()
      return undefined
    }
    this.#nc = nc
    logger.info({ server: nc.getServer() }, 'heartbeat connection to NATS established')
    return nc
  }

  /** Stops connecting and drains the connection (pending publishes are flushed). */
  async close (): Promise<void> {
    this.#stop.abort()
    const nc = this.#nc
    if (nc !== undefined && !nc.isClosed()) await nc.drain().catch(async () => await nc.close())
  }
}
