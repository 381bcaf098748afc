/**
 * Everything the CLI prints. Human output: pretty JSON, borderless tables
 * (cli-table3) and aligned fields, coloured only when stdout is a terminal
 * and `NO_COLOR` is not set. With `--json`: one compact JSON document per
 * line on stdout. Errors: one line on stderr, `credreg: <message> (<CODE>)`
 * (and a line per failed key for a refused changeset), or
 * `{"code","message",...}` with `--json`.
 */
import Table from 'cli-table3'
import { ChangesetError, CredregError, exitCodeFor, isCredregError, type KeyFailureDetail } from '../errors.js'
import { asciiColumns } from './columns.js'
import type { CliIo, OutStream } from './io.js'

/** Whether human output may use colour: stdout is a terminal, `NO_COLOR` is unset or empty, `TERM` is not `dumb`. */
export function colorEnabled (io: CliIo): boolean {
  return io.stdout.isTTY === true && (io.env.NO_COLOR ?? '') === '' && io.env.TERM !== 'dumb'
}

/** A cell of a table. */
export type Cell = string | number

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  '
}

/** The printer of one CLI run. */
export class Output {
  /** Machine output (`--json`). */
  readonly json: boolean
  /** Colour in human output. */
  readonly color: boolean
  readonly #stdout: OutStream
  readonly #stderr: OutStream

  constructor (io: CliIo, json: boolean) {
    this.json = json
    this.color = !json && colorEnabled(io)
    this.#stdout = io.stdout
    this.#stderr = io.stderr
  }

  /** `machine` as one JSON line with `--json`, else whatever `human` prints. */
  result (machine: unknown, human: () => void): void {
    if (this.json) this.data(machine)
    else human()
  }

  /** One compact JSON document on one line. */
  data (value: unknown): void {
    this.line(JSON.stringify(value))
  }

  /** Indented JSON, for people. */
  pretty (value: unknown): void {
    this.line(JSON.stringify(value, null, 2))
  }

  /** One line on stdout. */
  line (text: string): void {
    this.#stdout.write(text + '\n')
  }

  /** The answer of every write: `KEY version N`, or `{"key","version"}`. */
  written ({ key, version }: { key: string, version: number }): void {
    this.result({ key, version }, () => this.line(`${key} version ${version}`))
  }

  /** A borderless table with a header row. */
  table (head: string[], rows: Cell[][]): void {
    const plain = asciiColumns(head, rows)
    if (plain !== undefined) {
      const [first = '', ...rest] = plain
      this.line([this.color ? bold(first) : first, ...rest].join('\n'))
      return
    }
    // Colour is applied here, not by cli-table3's own colour library, which decides by itself from the process.
    const table = new Table({
      head: this.color ? head.map(bold) : head,
      chars: BORDERLESS,
      style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] }
    })
    table.push(...rows)
    // cli-table3 pads the last column too; trailing blanks only get in the way of grep and diff.
    this.line(table.toString().split('\n').map(l => l.trimEnd()).join('\n'))
  }

  /** `name  value` lines, the names aligned. */
  fields (rows: Array<[string, Cell]>): void {
    const width = Math.max(0, ...rows.map(([name]) => name.length))
    for (const [name, value] of rows) this.line(`${(this.color ? bold(name.padEnd(width)) : name.padEnd(width))}  ${value}`)
  }

  /** A remark for people on stderr; silent with `--json`. */
  note (text: string): void {
    if (!this.json) this.#stderr.write(`credreg: ${text}\n`)
  }

  /**
   * Reports `err` on stderr and returns the exit code of its error code. A
   * refused changeset takes a line more per key that failed: the key, its
   * code, and the versions expected and found (or why it failed).
   */
  error (err: unknown): number {
    const e = isCredregError(err) ? err : new CredregError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })
    if (this.json) {
      this.#stderr.write(JSON.stringify(e.toJSON()) + '\n')
    } else if (e instanceof ChangesetError) {
      this.#stderr.write(`credreg: the changeset was refused, nothing was written (${e.code})\n`)
      const keyWidth = Math.max(...e.failures.map(f => f.key.length))
      const codeWidth = Math.max(...e.failures.map(f => f.code.length))
      for (const f of e.failures) this.#stderr.write(`  ${f.key.padEnd(keyWidth)}  ${f.code.padEnd(codeWidth)}  ${why(f)}\n`)
    } else {
      this.#stderr.write(`credreg: ${e.message.replaceAll('\n', ' ')} (${e.code})\n`)
    }
    return exitCodeFor(e)
  }
}

/** Why one key of a changeset failed: for a conflict the versions expected and found, else its message. */
function why (f: KeyFailureDetail): string {
  if (f.currentVersion !== undefined) return `expected ${f.expectedVersion === undefined ? 'no version (absent)' : `version ${f.expectedVersion}`}, current version ${f.currentVersion}`
  const message = f.message.startsWith(`${f.key}: `) ? f.message.slice(f.key.length + 2) : f.message
  return message.replaceAll('\n', ' ')
}

function bold (text: string): string {
  return `\u001b[1m${text}\u001b[22m`
}
