/**
 * The daemon's unix socket: claimed only when nothing serves on it, created
 * with mode 0660 (owner and group may connect; no window with a looser mode),
 * and removed on shutdown.
 */
import { chmod, lstat, mkdir, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { CredregError } from '../errors.js'
import type { HttpApp } from '../http/context.js'

/** Mode of the socket file: read/write for owner and group. */
export const SOCKET_MODE = 0o660

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

/** Starts `app` on the unix socket `path` with mode {@link SOCKET_MODE}. */
export async function listenOnSocket (app: HttpApp, path: string): Promise<void> {
  // The umask applies when the socket is bound, so it never exists with a looser mode.
  const previous = process.umask(0o777 & ~SOCKET_MODE)
  try {
    await app.listen({ path })
  } finally {
    process.umask(previous)
  }
  await chmod(path, SOCKET_MODE)
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
