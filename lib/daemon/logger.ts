/**
 * The daemon's structured JSON logger (pino), on stdout unless told otherwise.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent, type LoggerOptions } from 'pino'

/**
 * A pino logger at `level`, ISO timestamps, level names rather than numbers,
 * secrets redacted; `destination` defaults to stdout (`credreg dev` uses
 * stderr, keeping stdout for what it prints to the user).
 */
export function createLogger (level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: 'credregd',
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: ['config.natsPass', 'config.natsToken', 'req.headers.authorization'], censor: '[redacted]' }
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}
