/**
 * Running an operator's command (`--on-change`, `--test`) through `sh -c`:
 * its output goes to the agent's streams and its last lines are kept, for an
 * acknowledgement's message.
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:os'

/** How a command ended. */
export interface ShellResult {
  /** Exit code; 128 + n when a signal ended it. */
  code: number
  /** The last 4 KiB of its stdout and stderr, interleaved. */
  tail: string
}

const TAIL_BYTES = 4096

/** Runs `command` with `env` over this process's environment, forwarding its output to `out`. */
export async function runShell (command: string, options: { env?: NodeJS.ProcessEnv, out?: NodeJS.WritableStream, cwd?: string } = {}): Promise<ShellResult> {
  const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) })
  let tail = ''
  const take = (chunk: Buffer): void => {
    options.out?.write(chunk)
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES)
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  return await new Promise((resolve) => {
    child.once('error', err => resolve({ code: 127, tail: err.message }))
    child.once('close', (code, signal) => resolve({ code: code ?? 128 + signalNumber(signal), tail }))
  })
}

/** The number of `signal` (0 when unknown). */
export function signalNumber (signal: NodeJS.Signals | null): number {
  if (signal === null) return 0
  return (constants.signals as Record<string, number>)[signal] ?? 0
}
