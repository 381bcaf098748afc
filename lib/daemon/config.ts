/**
 * The daemon's configuration: flags, their `CREDREG_*` environment twins,
 * and the TypeBox schema every configuration is validated against.
 */
import { isAbsolute, resolve } from 'node:path'
import { Command, Option } from 'commander'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { CredregError } from '../errors.js'
import { redactUrl } from '../log/nats-url.js'
import { isLoopback, parseListen } from './listen.js'
import { defaultAdminSocketPath, defaultSocketPath } from './paths.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const LogLevel = Type.Union(LOG_LEVELS.map(l => Type.Literal(l)))

/** A validated daemon configuration. */
export const DaemonConfigSchema = Type.Object({
  dataDir: Type.String({ minLength: 1 }),
  /** Unix socket path; at most 107 bytes, the limit of `sun_path`. */
  socket: Type.String({ minLength: 1, maxLength: 107 }),
  /** Unix socket of the admin routes, mode 0600; at most 107 bytes too. */
  adminSocket: Type.String({ minLength: 1, maxLength: 107 }),
  /** NATS server URLs; absent means standalone. */
  nats: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  namespace: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  history: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  streamMaxBytes: Type.Optional(Type.Integer({ minimum: 1024 * 1024, maximum: Number.MAX_SAFE_INTEGER })),
  maxValueBytes: Type.Integer({ minimum: 2, maximum: 1024 * 1024 }),
  nodeId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' })),
  logLevel: LogLevel,
  keyFile: Type.Optional(Type.String({ minLength: 1 })),
  scopeKeyFiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 64 })),
  natsCreds: Type.Optional(Type.String({ minLength: 1 })),
  natsNkey: Type.Optional(Type.String({ minLength: 1 })),
  natsInboxPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', maxLength: 128 })),
  natsUser: Type.Optional(Type.String({ minLength: 1 })),
  natsPass: Type.Optional(Type.String()),
  natsToken: Type.Optional(Type.String({ minLength: 1 })),
  natsTlsCa: Type.Optional(Type.String({ minLength: 1 })),
  natsTlsCert: Type.Optional(Type.String({ minLength: 1 })),
  natsTlsKey: Type.Optional(Type.String({ minLength: 1 })),
  listen: Type.Optional(Type.Object({ host: Type.String(), port: Type.Integer({ minimum: 0, maximum: 65535 }) })),
  tokenFile: Type.Optional(Type.String({ minLength: 1 })),
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
  allowRemote: Type.Boolean(),
  heartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  sseHeartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  writeTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  maxWatchers: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  maxWatchReplays: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 }))
})

export type DaemonConfig = Static<typeof DaemonConfigSchema>

type Kind = 'string' | 'int' | 'bool' | 'list' | 'listen'
interface Flag { flag: string, key: keyof DaemonConfig, kind: Kind, help: string }

/** Every flag; the environment twin is `CREDREG_` + the flag in upper snake case. */
const FLAGS: Flag[] = [
  { flag: '--data-dir <dir>', key: 'dataDir', kind: 'string', help: 'directory of the replica (required)' },
  { flag: '--socket <path>', key: 'socket', kind: 'string', help: 'unix socket of the HTTP API for apps, mode 0660 (default: <data-dir>/credregd.sock)' },
  { flag: '--admin-socket <path>', key: 'adminSocket', kind: 'string', help: 'unix socket of the admin routes (tokens, reseed) and every other route with full rights, mode 0600 (default: <data-dir>/credregd-admin.sock)' },
  { flag: '--nats <urls>', key: 'nats', kind: 'list', help: 'NATS server URL(s), comma-separated; absent: standalone with an embedded log' },
  { flag: '--namespace <name>', key: 'namespace', kind: 'string', help: 'namespace, [A-Za-z0-9_-]{1,64} (default: default)' },
  { flag: '--history <n>', key: 'history', kind: 'int', help: 'versions kept per key, 1-100 (default: 10)' },
  { flag: '--replicas <n>', key: 'replicas', kind: 'int', help: 'JetStream stream replicas, cluster mode only (default: 1)' },
  { flag: '--stream-max-bytes <n>', key: 'streamMaxBytes', kind: 'int', help: 'bytes the stream may hold when this daemon creates it; full, it refuses new records (default: unlimited)' },
  { flag: '--max-value-bytes <n>', key: 'maxValueBytes', kind: 'int', help: 'largest serialized value in bytes (default: 65536)' },
  { flag: '--node-id <id>', key: 'nodeId', kind: 'string', help: 'node id (default: generated once and kept in the replica)' },
  { flag: '--log-level <level>', key: 'logLevel', kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent (default: info)' },
  { flag: '--key-file <path>', key: 'keyFile', kind: 'string', help: '32-byte data key, mode 0600; required with --nats (standalone default: <data-dir>/credregd.key, created on first start)' },
  { flag: '--scope-key-file <paths>', key: 'scopeKeyFiles', kind: 'list', help: 'comma-separated 32-byte key files (mode 0600) of the read scopes this host reads, and of rotated keys not yet retired' },
  { flag: '--nats-creds <file>', key: 'natsCreds', kind: 'string', help: 'NATS credentials file (JWT + nkey seed), mode 0600' },
  { flag: '--nats-nkey <file>', key: 'natsNkey', kind: 'string', help: 'file holding the NATS user nkey seed (SU...), mode 0600' },
  { flag: '--nats-inbox-prefix <prefix>', key: 'natsInboxPrefix', kind: 'string', help: 'subject prefix of this daemon\'s NATS reply subjects (default: _INBOX), e.g. _INBOX_host-a, to confine each host user to its own replies' },
  { flag: '--nats-user <user>', key: 'natsUser', kind: 'string', help: 'NATS user (with --nats-pass)' },
  { flag: '--nats-pass <pass>', key: 'natsPass', kind: 'string', help: 'NATS password (prefer the environment twin)' },
  { flag: '--nats-token <token>', key: 'natsToken', kind: 'string', help: 'NATS token (prefer the environment twin)' },
  { flag: '--nats-tls-ca <file>', key: 'natsTlsCa', kind: 'string', help: 'CA certificate to verify the NATS server' },
  { flag: '--nats-tls-cert <file>', key: 'natsTlsCert', kind: 'string', help: 'client certificate for NATS (with --nats-tls-key)' },
  { flag: '--nats-tls-key <file>', key: 'natsTlsKey', kind: 'string', help: 'client key for NATS' },
  { flag: '--listen <host:port>', key: 'listen', kind: 'listen', help: 'also serve the API over TCP, bearer token required (loopback only unless --allow-remote)' },
  { flag: '--token-file <path>', key: 'tokenFile', kind: 'string', help: 'file holding the bearer token of the TCP listener (required with --listen)' },
  { flag: '--tls-cert <file>', key: 'tlsCert', kind: 'string', help: 'certificate chain (PEM) of the TCP listener: it serves HTTPS (with --tls-key)' },
  { flag: '--tls-key <file>', key: 'tlsKey', kind: 'string', help: 'private key (PEM, mode 0600) of --tls-cert' },
  { flag: '--allow-remote', key: 'allowRemote', kind: 'bool', help: 'let --listen bind a non-loopback address (needs --tls-cert and --tls-key)' },
  { flag: '--heartbeat-ms <ms>', key: 'heartbeatMs', kind: 'int', help: 'interval of the heartbeats to peers (default: 5000)' },
  { flag: '--sse-heartbeat-ms <ms>', key: 'sseHeartbeatMs', kind: 'int', help: 'interval of the comment heartbeat on watch streams (default: 15000)' },
  { flag: '--write-timeout-ms <ms>', key: 'writeTimeoutMs', kind: 'int', help: 'bound of a write, including the local apply (default: 5000)' },
  { flag: '--max-watchers <n>', key: 'maxWatchers', kind: 'int', help: 'watch streams open at once; beyond: 503 with Retry-After (default: 128)' },
  { flag: '--max-watch-replays <n>', key: 'maxWatchReplays', kind: 'int', help: 'watch streams replaying a backlog at once; beyond: 503 with Retry-After (default: 8)' }
]

/** A graceful shutdown that takes longer than this ends the process with exit code 1 (credregd and `credreg dev` alike). */
export const SHUTDOWN_TIMEOUT_MS = 20_000

const DEFAULTS = { namespace: 'default', maxValueBytes: 65536, logLevel: 'info', allowRemote: false, heartbeatMs: 5000, sseHeartbeatMs: 15000 }

const checkConfig = Compile(DaemonConfigSchema)

/** `--data-dir` → `CREDREG_DATA_DIR`. */
export function envName (flag: string): string {
  return 'CREDREG_' + (flag.split(' ')[0] ?? '').slice(2).replaceAll('-', '_').toUpperCase()
}

/** The commander program of `credregd`, with `--help` listing every flag and its environment twin. */
export function daemonProgram (version: string): Command {
  const program = new Command('credregd')
    .description('credreg daemon: a local replica of the credential register, served over HTTP on a unix socket')
    .version(version)
    .exitOverride()
    .allowExcessArguments(false)
  for (const f of FLAGS) program.addOption(new Option(f.flag, `${f.help} [env: ${envName(f.flag)}]`))
  return program
}

/**
 * Reads flags (over their environment twins) into a validated
 * {@link DaemonConfig}. Throws a commander error for `--help`/`--version` or
 * an unknown flag, and `INVALID_CONFIG` for anything that does not validate.
 */
export function parseConfig (argv: string[], env: NodeJS.ProcessEnv, version: string): DaemonConfig {
  const program = daemonProgram(version)
  program.parse(argv, { from: 'user' })
  const cli = program.opts<Record<string, unknown>>()
  const raw: Record<string, unknown> = { ...DEFAULTS }
  for (const f of FLAGS) {
    const fromEnv = env[envName(f.flag)]
    // Commander names an option by its flag (`--scope-key-file` → scopeKeyFile), which the config key may not match.
    const value = cli[new Option(f.flag).attributeName()] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined)
    if (value !== undefined) raw[f.key] = convert(f, value)
  }
  return finish(raw)
}

function convert (f: Flag, value: unknown): unknown {
  if (f.kind === 'bool') return value === true || parseBool(f, String(value))
  if (typeof value !== 'string') return value
  switch (f.kind) {
    case 'int': {
      if (!/^\d+$/.test(value)) throw invalid(`${f.flag.split(' ')[0]} must be a whole number, not ${JSON.stringify(value)}`)
      return Number(value)
    }
    case 'list': return value.split(',').map(s => s.trim()).filter(s => s !== '')
    case 'listen': return parseListen(value)
    default: return value
  }
}

function parseBool (f: Flag, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off)$/i.test(value)) return false
  throw invalid(`${envName(f.flag)} must be true or false, not ${JSON.stringify(value)}`)
}

function finish (raw: Record<string, unknown>): DaemonConfig {
  if (typeof raw.dataDir !== 'string') throw invalid(`--data-dir is required (or ${envName('--data-dir')})`)
  raw.dataDir = resolve(raw.dataDir)
  raw.socket = typeof raw.socket === 'string' ? resolve(raw.socket) : defaultSocketPath(raw.dataDir as string)
  for (const k of ['keyFile', 'tokenFile', 'tlsCert', 'tlsKey', 'natsCreds', 'natsNkey'] as const) {
    if (typeof raw[k] === 'string' && !isAbsolute(raw[k] as string)) raw[k] = resolve(raw[k] as string)
  }
  if (Array.isArray(raw.scopeKeyFiles)) raw.scopeKeyFiles = (raw.scopeKeyFiles as string[]).map(p => resolve(p))
  raw.adminSocket = typeof raw.adminSocket === 'string' ? resolve(raw.adminSocket) : defaultAdminSocketPath(raw.dataDir as string)
  for (const [flag, path] of [['--socket', raw.socket], ['--admin-socket', raw.adminSocket]] as const) {
    if (Buffer.byteLength(path as string) > 107) {
      throw invalid(`${flag} ${path as string} is longer than 107 bytes, the limit of a unix socket path; choose a shorter path`)
    }
  }
  if (raw.adminSocket === raw.socket) throw invalid(`--admin-socket and --socket are both ${raw.socket as string}; the admin socket is a socket of its own`)
  if (!checkConfig.Check(raw)) {
    const first = checkConfig.Errors(raw)[0]
    const where = first?.instancePath.replace(/^\//, '') ?? ''
    const flag = FLAGS.find(f => f.key === where.split('/')[0])?.flag.split(' ')[0] ?? where
    const got = quote(where.split('/')[0] ?? '', raw[where.split('/')[0] ?? ''])
    if (flag === '--log-level') throw invalid(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got ${got})`)
    throw invalid(`${flag}: ${first?.message ?? 'invalid'} (got ${got})`)
  }
  const config = raw as DaemonConfig
  if (config.nats !== undefined && config.keyFile === undefined) throw invalid('--key-file is required with --nats: every daemon of a namespace must share the same data key')
  if (config.nats === undefined && config.replicas !== undefined) throw invalid('--replicas applies only with --nats')
  if (config.nats === undefined && config.streamMaxBytes !== undefined) throw invalid('--stream-max-bytes applies only with --nats')
  if (config.nats === undefined && config.natsInboxPrefix !== undefined) throw invalid('--nats-inbox-prefix applies only with --nats')
  if ((config.natsUser === undefined) !== (config.natsPass === undefined)) throw invalid('--nats-user and --nats-pass go together')
  if ((config.natsTlsCert === undefined) !== (config.natsTlsKey === undefined)) throw invalid('--nats-tls-cert and --nats-tls-key go together')
  if (config.natsCreds !== undefined && config.natsNkey !== undefined) throw invalid('--nats-creds and --nats-nkey exclude each other: the creds file holds its own seed')
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw invalid('--tls-cert and --tls-key go together')
  if (config.listen === undefined && config.tlsCert !== undefined) throw invalid('--tls-cert and --tls-key apply only with --listen')
  if (config.listen !== undefined) {
    if (config.tokenFile === undefined) throw invalid('--listen needs --token-file: the TCP listener always requires a bearer token')
    if (!isLoopback(config.listen.host)) {
      if (!config.allowRemote) throw invalid(`--listen ${config.listen.host} is not a loopback address; pass --allow-remote to serve other hosts`)
      // The bearer token and every credential read would cross the network in clear.
      if (config.tlsCert === undefined) throw invalid(`--listen ${config.listen.host} is not a loopback address: serving other hosts needs TLS (--tls-cert and --tls-key)`)
    }
  }
  return config
}

/** A value for an error message; secrets are never quoted, URLs lose their credentials. */
function quote (key: string, value: unknown): string {
  if (key === 'natsPass' || key === 'natsToken') return '[redacted]'
  if (key === 'nats' && Array.isArray(value)) return JSON.stringify(value.map(v => typeof v === 'string' ? redactUrl(v) : v))
  return JSON.stringify(value)
}

function invalid (message: string): CredregError {
  return new CredregError('INVALID_CONFIG', message)
}
