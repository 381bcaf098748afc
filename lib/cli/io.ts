/** The process streams and environment the CLI runs with, passed in so nothing reaches for globals. */

/** A writable stream that may be a terminal. */
export type OutStream = NodeJS.WritableStream & { isTTY?: boolean }

/** What the CLI reads from and writes to. */
export interface CliIo {
  stdout: OutStream
  stderr: OutStream
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
}

/**
 * The streams and environment of this process. A reader that goes away
 * (`credreg watch | head -1`) ends the process quietly rather than with a stack trace.
 */
export function processIo (): CliIo {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(0)
  })
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
}
