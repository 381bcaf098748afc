/** Reading what the user typed: whole numbers for commander, and JSON from an argument, a file or stdin. */
import { readFile } from 'node:fs/promises'
import { InvalidArgumentError } from 'commander'
import { CredregError } from '../errors.js'
import { jsonSyntaxFault } from './json-syntax.js'

/** A commander argument parser for a whole number (0, 1, 2…). */
export function wholeNumber (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number.')
  return n
}

/** A commander argument parser for `credreg render --stage`: the only stage it renders besides the current values is `pending`. */
export function renderStage (value: string): 'pending' {
  if (value !== 'pending') throw new InvalidArgumentError(`the only stage is pending (the staged values of a rotation, for --test), got ${JSON.stringify(value)}.`)
  return value
}

/** A commander argument parser for a version: a whole number from 1 on. */
export function versionNumber (value: string): number {
  const n = wholeNumber(value)
  if (n === 0) throw new InvalidArgumentError('versions start at 1.')
  return n
}

const SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const
/** The longest duration a rotation's deadline may be (as `deadlineSeconds` takes it). */
const MAX_DURATION_S = 366 * 86400

/**
 * A commander argument parser for a duration: whole numbers with a unit each,
 * s, m, h or d, one or several (`90s`, `10m`, `1h30m`, `2d`), in seconds; at
 * least 1 s and at most 366 days.
 */
export function durationSeconds (value: string): number {
  if (!/^(\d+[smhd])+$/.test(value)) throw new InvalidArgumentError('expected a duration such as 90s, 10m, 1h30m or 2d (units s, m, h, d).')
  let seconds = 0
  for (const [, n, unit] of value.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * SECONDS[unit as keyof typeof SECONDS]
  if (seconds < 1 || seconds > MAX_DURATION_S) throw new InvalidArgumentError('expected a duration from 1s to 366d.')
  return seconds
}

/** A commander argument parser for a comma-separated list of node ids (`a,b,c`). */
export function nodeIdList (value: string): string[] {
  const ids = value.split(',').map(id => id.trim())
  if (ids.some(id => !/^[A-Za-z0-9_.-]{1,128}$/.test(id))) throw new InvalidArgumentError('expected node ids separated by commas, each 1-128 characters of A-Z a-z 0-9 _ . -')
  return ids
}

/** A commander argument parser for comma-separated key prefixes (`svc/a/,shared/`), added to those of an earlier use of the flag. */
export function prefixList (value: string, previous: string[] = []): string[] {
  const prefixes = value.split(',').map(p => p.trim()).filter(p => p !== '')
  if (prefixes.length === 0 || prefixes.some(p => !/^[A-Za-z0-9_./-]{1,256}$/.test(p))) {
    throw new InvalidArgumentError('expected key prefixes separated by commas, each 1-256 characters of A-Z a-z 0-9 _ . - /')
  }
  return [...previous, ...prefixes]
}

/** Where a JSON document comes from: the argument (`-` for stdin) or `--file PATH` (`-` for stdin). */
export interface JsonSource {
  text?: string
  file?: string
}

/**
 * Reads and parses the JSON document of `source`. `what` names it in errors
 * (`value`, `patch`). Fails with `BAD_REQUEST` when there is none or two
 * sources, when the file cannot be read, or when the text is not JSON (saying
 * where and why, never quoting the text).
 */
export async function readJson (source: JsonSource, stdin: NodeJS.ReadableStream, what: string): Promise<unknown> {
  if (source.text !== undefined && source.file !== undefined) throw bad(`give the ${what} either as an argument or with --file, not both`)
  const from = source.text ?? source.file
  if (from === undefined) throw bad(`no ${what}: give it as a JSON argument, with --file PATH, or as - to read stdin`)
  let text: string
  if (from === '-') text = await readAll(stdin)
  else if (source.file !== undefined) text = await readFile(source.file, 'utf8').catch((err: Error) => { throw bad(`cannot read ${source.file as string}: ${err.message}`, err) })
  else text = from
  try {
    return JSON.parse(text)
  } catch {
    // Not V8's message, nor the error as a cause: both quote the text, which may be a secret.
    throw bad(`the ${what} is not valid JSON: ${jsonSyntaxFault(text) ?? 'it cannot be parsed'}`)
  }
}

async function readAll (stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

function bad (message: string, cause?: unknown): CredregError {
  return new CredregError('BAD_REQUEST', message, cause === undefined ? undefined : { cause })
}

const MILLISECONDS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

/** A commander argument parser for a short duration in milliseconds: `0`, `500ms`, `10s`, `1m30s`; at most a day. */
export function durationMs (value: string): number {
  if (value === '0') return 0
  if (!/^(\d+(?:ms|s|m|h))+$/.test(value)) throw new InvalidArgumentError('expected a duration such as 500ms, 10s or 1m30s (units ms, s, m, h).')
  let ms = 0
  for (const [, n, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * MILLISECONDS[unit as keyof typeof MILLISECONDS]
  if (ms > 86_400_000) throw new InvalidArgumentError('expected a duration of at most 24h.')
  return ms
}

/** A commander argument parser for a file mode in octal: `600`, `0640`. */
export function fileMode (value: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) throw new InvalidArgumentError('expected an octal file mode such as 0600 or 0640.')
  return parseInt(value, 8)
}
