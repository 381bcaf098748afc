/**
 * `credreg`, the admin CLI: parses the command line, runs one command (its
 * module imported on demand) against the daemon, and turns every failure
 * into one line on stderr and the exit code of its error code.
 */
import { CommanderError, type Command } from 'commander'
import { CredregError } from '../errors.js'
import { credregVersion } from '../version.js'
import { CommandContext, type GlobalOptions } from './context.js'
import { processIo, type CliIo } from './io.js'
import { Output } from './output.js'
import { buildProgram } from './program.js'

export type { CliIo } from './io.js'

/**
 * Runs `credreg` with `argv` (the arguments after the program name) and
 * resolves with its exit code: 0 ok, 1 other failure, 2 usage or invalid
 * input, 3 version conflict, 4 not found, 5 unavailable, 6 reseed refused, 7 forbidden.
 */
export async function main (argv: string[], io: CliIo = processIo()): Promise<number> {
  let ctx: CommandContext | undefined
  const program = buildProgram(credregVersion(), async (load, command) => {
    ctx = new CommandContext(io, globalOptions(command))
    const { run } = await load()
    await run(ctx, input(command))
  }, {
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    // Errors are reported below, as every other failure is.
    outputError: () => {}
  })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return ctx?.exitCode ?? 0
  } catch (err) {
    const out = ctx?.out ?? new Output(io, wantsJson(argv))
    if (err instanceof CommanderError) return usageError(err, out)
    return out.error(ctx?.explain(err) ?? err)
  } finally {
    await ctx?.close()
  }
}

/** Help and version exit 0; help shown for a missing command exits 2; any other commander error is a usage error. */
function usageError (err: CommanderError, out: Output): number {
  if (err.exitCode === 0) return 0
  if (err.code === 'commander.help') return 2
  out.error(new CredregError('BAD_REQUEST', err.message.replace(/^error: /, '').trim()))
  return 2
}

/** The global options, given before the command name, after it, or after a group's name (`admin`). */
function globalOptions (command: Command): GlobalOptions {
  const chain: Command[] = []
  for (let c: Command | null = command; c !== null; c = c.parent) chain.unshift(c)
  const merged: Record<string, unknown> = Object.assign({}, ...chain.map(c => defined(c.opts())))
  return {
    json: merged.json === true,
    ...pick(merged, 'socket'),
    ...pick(merged, 'url'),
    ...pick(merged, 'tokenFile'),
    ...pick(merged, 'ca')
  }
}

/** A command's options and its operands by name (`<key>` → `key`). */
function input (command: Command): Record<string, unknown> {
  const operands = Object.fromEntries(command.registeredArguments.map((arg, i) => [arg.name(), command.processedArgs[i]]))
  return { ...command.opts(), ...operands }
}

/** `--json` among the options, for errors raised before the command line is parsed. */
function wantsJson (argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

function defined (o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

function pick (o: Record<string, unknown>, name: string): Record<string, string> {
  return typeof o[name] === 'string' ? { [name]: o[name] } : {}
}
