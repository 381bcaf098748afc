/** Human output: colour only on a terminal without NO_COLOR; tables without borders or trailing blanks; durations. */
import { PassThrough } from 'node:stream'
import t from 'tap'
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

t.test('durations read as the largest two units', async t => {
  t.same([0, 59.9, 60, 192, 3600, 7500, 86400, 273600].map(duration), ['0s', '59s', '1m00s', '3m12s', '1h00m', '2h05m', '1d00h', '3d04h'])
})
