/** The help texts every `--help` ends with: exit codes (from the error catalogue) and the environment. */
import { ERROR_CODES } from '../errors.js'

const MEANING: Record<number, string> = {
  0: 'ok',
  1: 'other failure',
  2: 'usage or invalid input: bad flag or argument, bad key, bad JSON, bad patch',
  3: 'conflict: --if-version or --if-absent (a changeset\'s ifVersion or ifAbsent) no longer holds, or a rotation refused (acks missing or failed, a key moved, closed)',
  4: 'not found: no such key, version or field',
  5: 'unavailable: the daemon cannot be reached (or NATS, for a write)',
  6: 'refused: a reseed that does not apply (the log matches the replica, or holds another history)',
  7: 'forbidden: the policy does not grant this host the key or the act (or the admin key is not the one in force), the token does not cover it, or this host holds no key that opens the value'
}

/** The exit codes, each with the error codes that end in it. */
export function exitCodesHelp (): string {
  const lines = Object.entries(MEANING).map(([exit, meaning]) => {
    const codes = Object.entries(ERROR_CODES).filter(([, spec]) => spec.exit === Number(exit)).map(([code]) => code)
    return `  ${exit}  ${meaning}${codes.length > 0 ? `\n     ${codes.join(', ')}` : ''}`
  })
  return [
    '',
    'Exit codes:',
    ...lines,
    'Errors go to stderr as one line, "credreg: <message> (<CODE>)"; with --json as {"code","message"}.'
  ].join('\n')
}

/** The environment variables the CLI reads. */
export function environmentHelp (): string {
  return [
    '',
    'Environment:',
    '  CREDREG_SOCKET  the daemon\'s unix socket when --socket is not given (credregd reads it too)',
    '  CREDREG_TOKEN_FILE    the token file when --token-file is not given: a scoped token on the socket, the listener\'s with --url',
    '  CREDREG_ADMIN_SOCKET  the admin socket of credreg admin … when --admin-socket is not given (credregd reads it too);',
    '                  default: credregd-admin.sock beside the socket',
    '  CREDREG_CA      CA certificate (PEM) to verify an https: --url with when --ca is not given',
    '  XDG_DATA_HOME   the default socket is that of credreg dev: $XDG_DATA_HOME/credreg/dev/credregd.sock',
    '                  (~/.local/share/credreg/dev/credregd.sock when unset)',
    '  NO_COLOR        no colour in human output (none either when stdout is not a terminal)'
  ].join('\n')
}
