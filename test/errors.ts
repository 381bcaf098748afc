import t from 'tap'
import { readFile } from 'node:fs/promises'
import { CredregError, ERROR_CODES, VersionConflictError, errorFromJSON, exitCodeFor, type ErrorCode } from '../lib/errors.js'

const codes = Object.keys(ERROR_CODES) as ErrorCode[]

t.test('every code is documented in the README with its status and exit code', async t => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  for (const code of codes) {
    const spec = ERROR_CODES[code]
    t.ok(readme.includes(`### \`${code}\``), `${code} has a heading`)
    const row = new RegExp(`^\\| \`${code}\` \\| ${spec.status} \\| ${spec.exit} \\| ${spec.retryable ? 'yes' : 'no'} \\|$`, 'm')
    t.match(readme, row, `${code} has its row in the table`)
  }
})

t.test('every code has an HTTP error status and a CLI exit code', async t => {
  for (const code of codes) {
    const { status, exit } = ERROR_CODES[code]
    t.ok(status >= 400 && status < 600, `${code} → HTTP ${status}`)
    t.ok(exit >= 1 && exit <= 6, `${code} → exit ${exit}`)
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
