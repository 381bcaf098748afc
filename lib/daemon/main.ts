/**
 * `credregd` from the command line: parse the configuration, start the
 * daemon, run until SIGTERM or SIGINT, then shut down gracefully.
 */
import { once } from 'node:events'
import { CommanderError } from 'commander'
import { exitCodeFor, isCredregError } from '../errors.js'
import { redactUrl } from '../log/nats-url.js'
import { credregVersion } from '../version.js'
import { parseConfig, SHUTDOWN_TIMEOUT_MS, type DaemonConfig } from './config.js'
import { createLogger } from './logger.js'

/**
 * Runs the daemon with `argv` (the arguments after the program name) and
 * `env`; resolves with the exit code: 0 after a graceful shutdown, the
 * catalogue's exit code of a start-up failure (2 for `INVALID_CONFIG`).
 */
export async function main (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: DaemonConfig
  try {
    config = parseConfig(argv, env, credregVersion())
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    return fail(err)
  }
  const logger = createLogger(config.logLevel)
  logger.debug({ config: { ...config, ...(config.nats !== undefined ? { nats: config.nats.map(redactUrl) } : {}) } }, 'configuration')
  // Listen before starting, so a signal during start-up still ends in a graceful shutdown.
  const stopped = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]) as Promise<[NodeJS.Signals]>
  let daemon
  try {
    // Loaded only now: --help and configuration errors need none of the server's modules.
    const { startDaemon } = await import('./daemon.js')
    daemon = await startDaemon(config, logger)
  } catch (err) {
    logger.fatal({ err }, 'cannot start')
    return fail(err)
  }
  const [signal] = await stopped
  logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish in time; exiting')
    process.exit(1)
  }, SHUTDOWN_TIMEOUT_MS)
  timer.unref()
  await daemon.close()
  clearTimeout(timer)
  logger.info('stopped')
  return 0
}

function fail (err: unknown): number {
  const message = isCredregError(err) ? err.message : (err as Error).stack ?? String(err)
  process.stderr.write(`credregd: ${message}\n`)
  return isCredregError(err) ? exitCodeFor(err) : 1
}
