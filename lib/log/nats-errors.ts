/** Failures of NATS calls, as the error catalogue names them. */
import { CredregError } from '../errors.js'

/** `err` as `UNAVAILABLE` ("<what>: <cause>"), unless it is already a catalogued error. */
export function unavailable (err: unknown, what: string): CredregError {
  if (err instanceof CredregError) return err
  return new CredregError('UNAVAILABLE', `${what}: ${(err as Error).message}`, { cause: err })
}
