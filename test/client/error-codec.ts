import t from 'tap'
import { ChangesetError, CredregError, ERROR_CODES, VersionConflictError } from '../../lib/errors.js'
import type { ErrorCode } from '../../lib/errors.js'
import { errorFromResponse, errorFromTransport } from '../../lib/client/error-codec.js'

function systemError (code: string, message = code): Error {
  return Object.assign(new Error(message), { code })
}

t.test('every code the daemon sends comes back as a CredregError with that code, status and flag', async (t) => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    if (code === 'CLOSED') continue
    const err = errorFromResponse({ status: spec.status, body: JSON.stringify({ code, message: `boom ${code}` }) })
    t.type(err, CredregError)
    t.equal(err.code, code as ErrorCode)
    t.equal(err.status, spec.status)
    t.equal(err.retryable, spec.retryable)
    t.equal(err.message, `boom ${code}`)
  }
})

t.test('CLOSED from the daemon (it is shutting down) is UNAVAILABLE: the client itself is still open', async (t) => {
  const err = errorFromResponse({ status: 503, body: JSON.stringify({ code: 'CLOSED', message: 'the node is closing' }) })
  t.match(err, { code: 'UNAVAILABLE', retryable: true, message: 'the node is closing' })
})

t.test('412 becomes a VersionConflictError with currentVersion and expectedVersion', async (t) => {
  const body = { code: 'VERSION_CONFLICT', message: 'a/b: expected version 2, but the latest version is 3', key: 'a/b', expectedVersion: 2, currentVersion: 3 }
  const err = errorFromResponse({ status: 412, body: JSON.stringify(body) })
  t.type(err, VersionConflictError)
  if (!(err instanceof VersionConflictError)) return
  t.equal(err.currentVersion, 3)
  t.equal(err.expectedVersion, 2)
  t.equal(err.key, 'a/b')
  t.equal(err.message, body.message)
})

t.test('a refused changeset becomes a ChangesetError with the failures of every key', async (t) => {
  const failures = [
    { key: 'a/b', code: 'VERSION_CONFLICT', message: 'a/b: expected version 2, but the latest version is 3', expectedVersion: 2, currentVersion: 3 },
    { key: 'a/c', code: 'VERSION_CONFLICT', message: 'a/c: expected the key to be absent, but the latest version is 1', currentVersion: 1 },
    { key: 'a/d', code: 'PATCH_FAILED', message: 'operation 0 cannot be applied: a test operation failed' }
  ]
  const body = { code: 'VERSION_CONFLICT', message: 'the changeset was refused, nothing was written', failures }
  const err = errorFromResponse({ status: 412, body: JSON.stringify(body) })
  t.type(err, ChangesetError)
  if (!(err instanceof ChangesetError)) return
  t.match(err, { code: 'VERSION_CONFLICT', status: 412, retryable: false, message: body.message })
  t.same(err.failures, failures)
  t.same(err.toJSON(), body, 'and back to the same body')
  const patch = errorFromResponse({ status: 422, body: JSON.stringify({ code: 'PATCH_FAILED', message: 'm', failures: failures.slice(2) }) })
  t.match(patch, { code: 'PATCH_FAILED', status: 422, failures: [{ key: 'a/d' }] })
  const garbled = errorFromResponse({ status: 404, body: JSON.stringify({ code: 'NOT_FOUND', message: 'm', failures: [{ key: 1 }, 'x'] }) })
  t.notOk(garbled instanceof ChangesetError, 'failures that are not key failures are ignored')
  t.equal(garbled.code, 'NOT_FOUND')
})

t.test('the request key fills in a body without one, and never overrides the body', async (t) => {
  const noKey = errorFromResponse({ status: 412, body: JSON.stringify({ code: 'VERSION_CONFLICT', message: 'm', currentVersion: 0 }), key: 'x/y' })
  t.equal(noKey.key, 'x/y')
  t.equal((noKey as VersionConflictError).currentVersion, 0)
  t.equal((noKey as VersionConflictError).expectedVersion, undefined, 'If-None-Match: * expected the key absent')
  const withKey = errorFromResponse({ status: 404, body: JSON.stringify({ code: 'NOT_FOUND', message: 'm', key: 'from/body' }), key: 'x/y' })
  t.equal(withKey.key, 'from/body')
})

t.test('a body that is not a CredregError falls back to the code of the status', async (t) => {
  const notJson = errorFromResponse({ status: 503, body: '<html>Service Unavailable</html>' })
  t.equal(notJson.code, 'UNAVAILABLE')
  t.match(notJson.message, /^HTTP 503: <html>/)
  const empty = errorFromResponse({ status: 404, body: '' })
  t.equal(empty.code, 'NOT_FOUND')
  t.equal(empty.message, 'HTTP 404')
  const fastify = errorFromResponse({ status: 400, body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'body must be object' }) })
  t.equal(fastify.code, 'BAD_REQUEST', 'the general code of a shared status')
  t.equal(fastify.message, 'body must be object')
  const unknownCode = errorFromResponse({ status: 401, body: JSON.stringify({ code: 'NOPE', message: 'who are you' }) })
  t.equal(unknownCode.code, 'UNAUTHORIZED')
  t.equal(errorFromResponse({ status: 500, body: 'oops' }).code, 'INTERNAL')
  t.equal(errorFromResponse({ status: 418, body: '[]' }).code, 'INTERNAL')
})

t.test('a refused or missing socket is UNAVAILABLE and keeps its cause', async (t) => {
  for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'HPE_INVALID_EOF_STATE']) {
    const cause = systemError(code)
    const err = errorFromTransport(cause, '/run/credregd.sock')
    t.equal(err.code, 'UNAVAILABLE', code)
    t.equal(err.retryable, true)
    t.equal(err.cause, cause)
    t.match(err.message, /\/run\/credregd\.sock/)
  }
})

t.test('a response cut off mid-body (undici\'s parser error on an early EOF, which has no code) is UNAVAILABLE', async (t) => {
  const cut = Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Invalid EOF state)'), { name: 'HTTPParserError' })
  t.equal(errorFromTransport(cut, '/run/credregd.sock').code, 'UNAVAILABLE')
  const other = Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Invalid header value char)'), { name: 'HTTPParserError' })
  t.equal(errorFromTransport(other, '/run/credregd.sock').code, 'INTERNAL', 'a malformed response from something else is not')
})

t.test('the code is found inside an AggregateError or a cause chain', async (t) => {
  const aggregate = new AggregateError([new Error('no code'), systemError('ECONNREFUSED')], 'connect failed')
  t.equal(errorFromTransport(aggregate, 'http://127.0.0.1:1').code, 'UNAVAILABLE')
  const chained = new Error('fetch failed', { cause: systemError('ETIMEDOUT') })
  t.equal(errorFromTransport(chained, 'x').code, 'TIMEOUT')
})

t.test('undici timeouts are TIMEOUT', async (t) => {
  for (const code of ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']) {
    t.equal(errorFromTransport(systemError(code), 'x').code, 'TIMEOUT', code)
  }
})

t.test('a CredregError passes through, anything else is INTERNAL', async (t) => {
  const closed = new CredregError('CLOSED', 'closed')
  t.equal(errorFromTransport(closed, 'x'), closed)
  const odd = errorFromTransport(new SyntaxError('Unexpected token'), 'x')
  t.equal(odd.code, 'INTERNAL')
  t.type(odd.cause, SyntaxError)
  t.equal(errorFromTransport('a string', 'x').code, 'INTERNAL')
})
