import t from 'tap'
import { readFile } from 'node:fs/promises'
import { CredregError, ERROR_CODES, VersionConflictError, errorFromJSON, exitCodeFor, type ErrorCode } from '../lib/errors.js'

const codes = Object.keys(ERROR_CODES) as ErrorCode[]

/** The README's text from `heading` to the next heading of the same level or above. */
function section (readme: string, heading: string): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 2
  const start = readme.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`README has no section ${heading}`)
  const rest = readme.slice(start + heading.length + 2)
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'))
  return end === -1 ? rest : rest.slice(0, end)
}

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
const errorsSection = section(readme, '## Errors')

t.test('the README\'s Errors section and the catalogue name the same codes', async t => {
  const headings = [...errorsSection.matchAll(/^### `([^`]*)`$/gm)].map(m => m[1] as string)
  for (const code of codes) t.equal(headings.filter(h => h === code).length, 1, `${code} has one heading`)
  for (const heading of headings) t.ok(heading in ERROR_CODES, `the heading ${heading} is a code of the catalogue`)
  const rows = [...errorsSection.matchAll(/^\| `([^`]*)` \|/gm)].map(m => m[1] as string)
  for (const code of codes) {
    const spec = ERROR_CODES[code]
    const row = new RegExp(`^\\| \`${code}\` \\| ${spec.status} \\| ${spec.exit} \\| ${spec.retryable ? 'yes' : 'no'} \\|$`, 'm')
    t.match(errorsSection, row, `${code} has its row in the table, with its status, exit code and retryable flag`)
  }
  for (const row of rows) t.ok(row in ERROR_CODES, `the table's row ${row} is a code of the catalogue`)
})

t.test('the README\'s CLI exit-code table lists each code under its exit code', async t => {
  const table = section(readme, '### Exit codes')
  const rows = [...table.matchAll(/^\| (\d+) \|[^|]*\|([^|]*)\|$/gm)].map(m => ({ exit: Number(m[1]), codes: [...(m[2] as string).matchAll(/`([^`]*)`/g)].map(c => c[1] as string) }))
  t.same(rows.map(r => r.exit), [...new Set([0, ...codes.map(c => ERROR_CODES[c].exit)])].sort((a, b) => a - b), 'one row per exit code in use, and 0')
  const listed = rows.flatMap(r => r.codes.map(code => ({ code, exit: r.exit })))
  for (const code of codes) t.same(listed.filter(l => l.code === code).map(l => l.exit), [ERROR_CODES[code].exit], `${code} is listed once, under exit ${ERROR_CODES[code].exit}`)
  for (const { code } of listed) t.ok(code in ERROR_CODES, `${code} in the table is a code of the catalogue`)
  t.same(rows.find(r => r.exit === 0)?.codes, [], 'exit 0 is no error')
})

t.test('every code has an HTTP error status and a CLI exit code', async t => {
  for (const code of codes) {
    const { status, exit } = ERROR_CODES[code]
    t.ok(status >= 400 && status < 600, `${code} → HTTP ${status}`)
    t.ok(exit >= 1 && exit <= 7, `${code} → exit ${exit}`)
    t.equal(exitCodeFor(new CredregError(code, 'x')), exit)
  }
  t.equal(exitCodeFor(new Error('plain')), 1)
  t.equal(ERROR_CODES.VERSION_CONFLICT.exit, 3)
  t.equal(ERROR_CODES.NOT_FOUND.exit, 4)
  t.equal(ERROR_CODES.UNAVAILABLE.exit, 5)
})

t.test('typed errors survive a round trip through JSON', async t => {
  for (const code of codes) {
    const err = new CredregError(code, `a ${code}`, { key: 'k' })
    const back = errorFromJSON(JSON.parse(JSON.stringify(err)), err.status)
    t.match(back, { code, message: `a ${code}`, key: 'k', status: err.status, retryable: err.retryable })
  }
  const conflict = errorFromJSON(JSON.parse(JSON.stringify(new VersionConflictError('db', 3, 5))))
  t.type(conflict, VersionConflictError)
  t.match(conflict, { key: 'db', expectedVersion: 3, currentVersion: 5 })
})

t.test('a body without a known code falls back to the most general code of its status', async t => {
  t.equal(errorFromJSON({ message: 'x' }, 400).code, 'BAD_REQUEST')
  t.equal(errorFromJSON({ message: 'x' }, 503).code, 'UNAVAILABLE')
  t.equal(errorFromJSON('garbage', 500).code, 'INTERNAL')
  t.equal(errorFromJSON({ code: 'NO_SUCH_CODE' }, 404).code, 'NOT_FOUND')
  t.equal(errorFromJSON({}, undefined).code, 'INTERNAL')
})
