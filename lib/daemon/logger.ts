/**
 * The daemon's structured JSON logger (pino) on stdout.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

/** A pino logger at `level`, ISO timestamps, level names rather than numbers, secrets redacted. */
export function createLogger (level: LevelWithSilent): Logger {
  return pino({
    name: 'credregd',
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: ['config.natsPass', 'config.natsToken', 'req.headers.authorization'], censor: '[redacted]' }
  })
}
