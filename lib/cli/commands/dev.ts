/**
 * `credreg dev [--data-dir DIR] [--socket PATH] [--admin-socket PATH]`: the
 * daemon's own `startDaemon`, in this process, standalone (an embedded log,
 * no NATS), until SIGINT or SIGTERM; then a graceful shutdown that removes
 * the sockets. The admin socket is beside the socket unless said, where the
 * admin commands look for it.
 * Its defaults are the ones every other command looks at, so `credreg dev`
 * in one terminal and `credreg status` in another just work.
 */
import { resolve } from 'node:path'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'
import { adminSocketBeside } from '../../daemon/paths.js'
import { devDataDir, resolveSocket } from '../target.js'

export interface DevInput {
  dataDir?: string
  logLevel: string
}

export async function run (ctx: CommandContext, { dataDir, logLevel }: DevInput): Promise<void> {
  const { env } = ctx.io
  if (ctx.globals.url !== undefined || ctx.globals.tokenFile !== undefined) {
    throw new CredregError('BAD_REQUEST', 'credreg dev serves a unix socket; --url and --token-file do not apply (use --socket)')
  }
  const [{ parseConfig, SHUTDOWN_TIMEOUT_MS }, { credregVersion }, { startDaemon }, { createLogger }, { pino }] = await Promise.all([
    import('../../daemon/config.js'), import('../../version.js'), import('../../daemon/daemon.js'), import('../../daemon/logger.js'), import('pino')
  ])
  const socket = ctx.globals.socket ?? (env.CREDREG_SOCKET !== '' ? env.CREDREG_SOCKET : undefined)
  const adminSocket = ctx.globals.adminSocket ?? (env.CREDREG_ADMIN_SOCKET !== '' ? env.CREDREG_ADMIN_SOCKET : undefined) ?? (socket !== undefined ? adminSocketBeside(resolve(socket)) : undefined)
  const config = parseConfig([
    '--data-dir', resolve(dataDir ?? devDataDir(env)),
    ...(socket !== undefined ? ['--socket', socket] : []),
    ...(adminSocket !== undefined ? ['--admin-socket', adminSocket] : []),
    '--log-level', logLevel
  ], {}, credregVersion())
  // Listen before starting, so a signal during start-up still ends in a graceful shutdown.
  const stop = ctx.interrupted()
  // The daemon's JSON logs go to stderr: stdout carries the banner (or the --json line).
  const daemon = await startDaemon(config, createLogger(config.logLevel, pino.destination(2)))
  try {
    const lookedAt = (await resolveSocket(undefined, env)).socket
    const info = { socket: daemon.socket, adminSocket: daemon.adminSocket, dataDir: config.dataDir, nodeId: daemon.nodeId, mode: 'standalone', pid: process.pid }
    ctx.out.result(info, () => banner(ctx, info, lookedAt === daemon.socket))
    if (!stop.aborted) await new Promise(resolve => stop.addEventListener('abort', resolve, { once: true }))
  } finally {
    const timer = setTimeout(() => {
      ctx.out.note(`the daemon did not stop within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`)
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    await daemon.close()
    clearTimeout(timer)
  }
  ctx.out.note('stopped')
}

function banner (ctx: CommandContext, info: { socket: string, adminSocket: string, dataDir: string, nodeId: string }, isDefault: boolean): void {
  const cli = isDefault ? 'credreg' : `credreg --socket ${info.socket}`
  const lines = [
    'credreg dev: a standalone daemon (no NATS) is running.',
    `  data dir  ${info.dataDir}`,
    `  socket    ${info.socket}`,
    `  admin     ${info.adminSocket}`,
    `  node      ${info.nodeId}`,
    '',
    'Talk to it from another terminal:',
    ...isDefault ? [] : [`  export CREDREG_SOCKET=${info.socket}    # or pass --socket to every command`],
    `  ${cli} status`,
    `  ${cli} put app/db '{"user":"app","password":"s3cret"}'`,
    `  ${cli} get app/db`,
    `  ${cli} watch`,
    `  ${cli} admin token list`,
    '',
    'Stop it with Ctrl-C.'
  ]
  for (const line of lines) ctx.out.line(line)
}
