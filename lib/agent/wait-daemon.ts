/** Waiting for the daemon at start (`--wait`), or failing at once with `UNAVAILABLE`. */
import type { CredregClient } from '../client/client.js'
import { CredregError } from '../errors.js'

/** Resolves once the daemon answers; retries for up to `waitMs`, then rejects with `UNAVAILABLE`. */
export async function waitForDaemon (client: CredregClient, waitMs = 0): Promise<void> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      await client.status()
      return
    } catch (err) {
      if (!(err instanceof CredregError) || !err.retryable) throw err
      if (Date.now() >= deadline) {
        if (waitMs === 0) throw err
        throw new CredregError('UNAVAILABLE', `the daemon did not answer within ${waitMs / 1000}s: ${err.message}`, { cause: err })
      }
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
}
