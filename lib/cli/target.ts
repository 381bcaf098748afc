/**
 * Where the CLI finds its daemon. `--url` with a token file (and for https:
 * `--ca` or `CREDREG_CA`, unless the system trusts the daemon's certificate)
 * reaches a TCP listener; otherwise the apps' unix socket is, in this order:
 *
 *   1. `--socket PATH`
 *   2. `CREDREG_SOCKET` (the daemon's own environment twin of `--socket`, so
 *      one environment file can serve `credregd` and `credreg` alike)
 *   3. the socket `credregd` uses by default for the data dir of `credreg dev`
 *      (`$XDG_DATA_HOME/credreg/dev`, else `~/.local/share/credreg/dev`)
 *
 * so `credreg dev` in one terminal and `credreg status` in another just work.
 * The token file is `--token-file`, else `CREDREG_TOKEN_FILE`: required with
 * `--url`, optional on the socket (a scoped token, once the daemon has tokens).
 *
 * The admin commands reach the admin socket instead: `--admin-socket`, else
 * `CREDREG_ADMIN_SOCKET`, else `credregd-admin.sock` beside the apps' socket
 * (where credregd puts it when both are in its data dir, their default).
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type { ConnectOptions } from '../client/types.js'
import { adminSocketBeside, defaultSocketPath } from '../daemon/paths.js'
import { CredregError } from '../errors.js'
import { readTokenFile } from '../secret-file.js'

/** The global options that say where the daemon is. */
export interface TargetOptions {
  socket?: string
  url?: string
  tokenFile?: string
  /** CA certificate file to verify an https: `url` with (else `CREDREG_CA`). */
  ca?: string
  /** The admin socket, for the admin commands. */
  adminSocket?: string
}

/** How to connect, and whether the socket was the default one (nothing chosen). */
export interface Target {
  connect: ConnectOptions
  /** True when neither `--socket`, `CREDREG_SOCKET` nor `--url` chose the daemon. */
  isDefault: boolean
}

/** The default data dir of `credreg dev`: `$XDG_DATA_HOME/credreg/dev`, else `~/.local/share/credreg/dev`. */
export function devDataDir (env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.local', 'share')
  return join(base, 'credreg', 'dev')
}

/** The unix socket to use: `--socket`, else `CREDREG_SOCKET`, else the socket of `credreg dev`'s default data dir. */
export async function resolveSocket (socket: string | undefined, env: NodeJS.ProcessEnv): Promise<{ socket: string, isDefault: boolean }> {
  const chosen = socket ?? nonEmpty(env.CREDREG_SOCKET)
  if (chosen !== undefined) return { socket: resolve(chosen), isDefault: false }
  return { socket: defaultSocketPath(devDataDir(env)), isDefault: true }
}

/**
 * Resolves the global options into client connect options. Fails with
 * `BAD_REQUEST` for options that do not go together and `INVALID_CONFIG`
 * for a token file that cannot be read or is refused (see `readTokenFile`).
 */
export async function resolveTarget (options: TargetOptions, env: NodeJS.ProcessEnv): Promise<Target> {
  const tokenFile = options.tokenFile ?? nonEmpty(env.CREDREG_TOKEN_FILE)
  if (options.url === undefined) {
    if (options.ca !== undefined) throw usage('--ca goes with --url')
    const { socket, isDefault } = await resolveSocket(options.socket, env)
    return { connect: { socket, ...(tokenFile !== undefined ? { token: await readTokenFile(tokenFile) } : {}) }, isDefault }
  }
  if (options.socket !== undefined) throw usage('--socket and --url exclude each other')
  if (tokenFile === undefined) throw usage('--url needs --token-file (or CREDREG_TOKEN_FILE): the TCP listener of credregd always requires a bearer token')
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw usage(`--url ${options.url} is not a URL; expected e.g. http://127.0.0.1:7420`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--url must be http: or https:, not ${url.protocol}`)
  const caFile = options.ca ?? nonEmpty(env.CREDREG_CA)
  const ca = caFile === undefined ? undefined : await readCa(caFile)
  return { connect: { url: url.href, token: await readTokenFile(tokenFile), ...(ca !== undefined ? { ca } : {}) }, isDefault: false }
}

/**
 * The admin socket: `--admin-socket`, else `CREDREG_ADMIN_SOCKET`, else
 * `credregd-admin.sock` beside the apps' socket. It takes no token (its mode
 * decides) and is never reached over TCP: `BAD_REQUEST` for `--url`,
 * `--token-file` or `--ca`.
 */
export async function resolveAdminTarget (options: TargetOptions, env: NodeJS.ProcessEnv): Promise<Target> {
  if (options.url !== undefined) throw usage('the admin commands reach the daemon\'s admin socket on this host; --url does not apply (use --admin-socket)')
  if (options.tokenFile !== undefined) throw usage('the admin socket takes no token (its mode, 0600, decides who may connect); --token-file does not apply')
  if (options.ca !== undefined) throw usage('--ca goes with --url')
  const chosen = options.adminSocket ?? nonEmpty(env.CREDREG_ADMIN_SOCKET)
  if (chosen !== undefined) return { connect: { socket: resolve(chosen) }, isDefault: false }
  const { socket, isDefault } = await resolveSocket(options.socket, env)
  return { connect: { socket: adminSocketBeside(socket) }, isDefault }
}

async function readCa (path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (cause) {
    throw new CredregError('INVALID_CONFIG', `--ca ${path} cannot be read: ${(cause as Error).message}`, { cause })
  }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function usage (message: string): CredregError {
  return new CredregError('BAD_REQUEST', message)
}
