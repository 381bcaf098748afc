/** Where credregd puts things by default, shared with the CLI (kept free of heavy imports). */
import { dirname, join } from 'node:path'

/** File name of the admin socket: in the data dir by default, and where the CLI looks beside the apps' socket. */
export const ADMIN_SOCKET_NAME = 'credregd-admin.sock'

/** The socket `credregd --data-dir DIR` listens on without `--socket`. */
export function defaultSocketPath (dataDir: string): string {
  return join(dataDir, 'credregd.sock')
}

/** The admin socket `credregd --data-dir DIR` listens on without `--admin-socket`. */
export function defaultAdminSocketPath (dataDir: string): string {
  return join(dataDir, ADMIN_SOCKET_NAME)
}

/** The admin socket the CLI expects beside the apps' socket `socket` (the same as the default when both are defaults). */
export function adminSocketBeside (socket: string): string {
  return join(dirname(socket), ADMIN_SOCKET_NAME)
}
