/**
 * The daemon's unix sockets: claimed only when nothing serves on them,
 * created with their mode (no window with a looser one), and removed on
 * shutdown. The apps' socket is 0660 (owner and group may connect), the
 * admin socket 0600 (the daemon's user only).
 */
import { chmod, lstat, mkdir, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { CredregError } from '../errors.js'
import type { HttpApp } from '../http/context.js'

/** Mode of the apps' socket file: read/write for owner and group. */
export const SOCKET_MODE = 0o660

/** Mode of the admin socket file: read/write for the owner only. */
export const ADMIN_SOCKET_MODE = 0o600

/**
 * Makes `path` free to listen on: a socket file left by a daemon that died is
 * removed; a socket something still answers on, or any other file, is
 * refused (`INVALID_CONFIG`), so a second daemon never takes over a live one.
 */
export async function claimSocketPath (path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 })
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (info === undefined) return
  if (!info.isSocket()) throw new CredregError('INVALID_CONFIG', `${path} exists and is not a socket; refusing to replace it`)
  if (await answers(path)) throw new CredregError('INVALID_CONFIG', `another process is serving on ${path}; is another credregd using this socket?`)
  await rm(path, { force: true })
}

/** Starts `app` on the unix socket `path` with `mode` ({@link SOCKET_MODE} unless said). */
export async function listenOnSocket (app: HttpApp, path: string, mode = SOCKET_MODE): Promise<void> {
  // The umask applies when the socket is bound, so it never exists with a looser mode.
  const previous = process.umask(0o777 & ~mode)
  try {
    await app.listen({ path })
  } finally {
    process.umask(previous)
  }
  await chmod(path, mode)
}

/** Removes the socket file, if still there. */
export async function removeSocket (path: string): Promise<void> {
  await rm(path, { force: true })
}

async function answers (path: string): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect({ path })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}
