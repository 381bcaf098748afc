/**
 * The certificate and key of the TCP listener (`--tls-cert`, `--tls-key`),
 * read and tried together at start, so a bad pair fails the start with
 * `INVALID_CONFIG` instead of the first connection.
 */
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { CredregError } from '../errors.js'
import { readSecretFile } from '../secret-file.js'

/** PEM certificate chain and private key of an HTTPS listener. */
export interface ListenerTls { cert: Buffer, key: Buffer }

/** Reads `certPath` and the secrets file `keyPath`; refuses a pair TLS cannot use. */
export async function readListenerTls (certPath: string, keyPath: string): Promise<ListenerTls> {
  const cert = await readFile(certPath).catch((cause: Error) => {
    throw new CredregError('INVALID_CONFIG', `--tls-cert ${certPath} cannot be read: ${cause.message}`, { cause })
  })
  const key = await readSecretFile(keyPath, 'TLS key file')
  try {
    createSecureContext({ cert, key })
  } catch (cause) {
    // OpenSSL's reason (e.g. "key values mismatch"), never the PEM itself.
    throw new CredregError('INVALID_CONFIG', `--tls-cert ${certPath} and --tls-key ${keyPath} are not a usable certificate and key: ${(cause as Error).message}`, { cause })
  }
  return { cert, key }
}
