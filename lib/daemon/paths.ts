/** Where credregd puts things by default, shared with the CLI (kept free of heavy imports). */
import { join } from 'node:path'

/** The socket `credregd --data-dir DIR` listens on without `--socket`. */
export function defaultSocketPath (dataDir: string): string {
  return join(dataDir, 'credregd.sock')
}
