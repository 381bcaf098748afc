/**
 * The `--listen HOST:PORT` address of the optional TCP listener.
 */
import { isIP } from 'node:net'
import { CredregError } from '../errors.js'

/** A TCP address to listen on. */
export interface ListenAddress { host: string, port: number }

/** Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (which means 127.0.0.1). */
export function parseListen (value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value)
  const port = Number(m?.[3])
  const host = m?.[1] ?? (m?.[2] === '' ? '127.0.0.1' : m?.[2])
  if (m === null || host === undefined || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new CredregError('INVALID_CONFIG', `--listen must be HOST:PORT (e.g. 127.0.0.1:8470), not ${JSON.stringify(value)}`)
  }
  return { host, port }
}

/** Whether `host` names this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host)
  return false
}
