/** Human output: colour only on a terminal without NO_COLOR; tables without borders or trailing blanks; durations. */
import { PassThrough } from 'node:stream'
import Table from 'cli-table3'
import t from 'tap'
import { asciiColumns } from '../../lib/cli/columns.js'
import type { CliIo } from '../../lib/cli/io.js'
import { duration } from '../../lib/cli/format.js'
import { Output, colorEnabled } from '../../lib/cli/output.js'

function io (isTTY: boolean, env: NodeJS.ProcessEnv = {}): CliIo & { text: () => string } {
  const stdout = Object.assign(new PassThrough(), { isTTY })
  let text = ''
  stdout.setEncoding('utf8').on('data', (s: string) => { text += s })
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env, text: () => text }
}

t.test('colour only when stdout is a terminal and NO_COLOR is unset or empty', async t => {
  t.equal(colorEnabled(io(true)), true)
  t.equal(colorEnabled(io(true, { NO_COLOR: '' })), true)
  t.equal(colorEnabled(io(true, { NO_COLOR: '1' })), false)
  t.equal(colorEnabled(io(true, { TERM: 'dumb' })), false)
  t.equal(colorEnabled(io(false)), false)
  t.equal(new Output(io(true), true).color, false, 'never with --json')
})

t.test('tables are borderless, aligned, without trailing blanks; colour only in the header', async t => {
  const plain = io(false)
  new Output(plain, false).table(['KEY', 'VERSION'], [['a/long/key', 1], ['b', 12]])
  t.equal(plain.text(), 'KEY         VERSION\na/long/key  1\nb           12\n')
  const tty = io(true)
  new Output(tty, false).table(['KEY'], [['a']])
  t.match(tty.text(), '\u001b[1m')
  t.notMatch(tty.text().split('\n')[1], '\u001b')
})

t.test('a table of printable ASCII is laid out as cli-table3 lays it out', async t => {
  const head = ['NODE', 'HOST', 'APPLIED SEQ', 'LAG', 'LAST SEEN', 'CREDREG']
  const rows = Array.from({ length: 50 }, (_, i) => [`node-${i}`, 'h'.repeat(i % 7), i * 97, i % 3, i % 2 === 0 ? 'now' : `gone (${i}s ago)`, `1.${i}.0`])
  const viaTable = new Table({ head, chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' }, style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] } })
  viaTable.push(...rows)
  t.same(asciiColumns(head, rows), viaTable.toString().split('\n').map(l => l.trimEnd()))
  t.equal(asciiColumns(['KEY'], [['clé']]), undefined, 'anything else is left to cli-table3')
  const wide = io(false)
  new Output(wide, false).table(['KEY', 'V'], [['日本', 1], ['ab', 2]])
  t.equal(wide.text(), 'KEY   V\n日本  1\nab    2\n', 'which measures wide characters')
})

t.test('durations read as the largest two units', async t => {
  t.same([0, 59.9, 60, 192, 3600, 7500, 86400, 273600].map(duration), ['0s', '59s', '1m00s', '3m12s', '1h00m', '2h05m', '1d00h', '3d04h'])
})
