import { request } from 'node:http'
import t, { type Test } from 'tap'
import { curl } from '../fixtures/curl.js'
import { startDaemon } from '../fixtures/daemon.js'

// A small value limit, so an oversized body is cheap to send.
const daemon = await startDaemon({ args: ['--max-value-bytes', '1024'] })
t.teardown(() => daemon.stop())
const sock = daemon.socket
const put = (path: string, ...args: string[]): ReturnType<typeof curl> => curl(sock, path, ['-X', 'PUT', ...args])

/** Every answer is a JSON error with a catalogue code. */
function isError (t: Test, res: { status: number, json: any }, status: number, code: string): void {
  t.equal(res.status, status, `status ${status}`)
  t.equal(res.json?.code, code, `code ${code}`)
  t.type(res.json?.message, 'string')
}

t.test('bad JSON is 400 BAD_REQUEST', async t => {
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/json', '--data-binary', '{"a":'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/entities/m/a', ['-X', 'PATCH', '-H', 'content-type: application/json-patch+json', '--data-binary', '[{']), 400, 'BAD_REQUEST')
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/json'), 400, 'BAD_REQUEST')
})

t.test('a body that is not a JSON object is 400 INVALID_VALUE', async t => {
  for (const body of ['[1,2]', '"text"', '42', 'null']) {
    isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/json', '--data-binary', body), 400, 'INVALID_VALUE')
  }
})

t.test('a wrong content type is 415', async t => {
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: text/plain', '--data-binary', '{"a":1}'), 415, 'UNSUPPORTED_MEDIA_TYPE')
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/x-www-form-urlencoded', '--data-binary', 'a=1'), 415, 'UNSUPPORTED_MEDIA_TYPE')
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/merge-patch+json', '--data-binary', '{"a":1}'), 415, 'UNSUPPORTED_MEDIA_TYPE')
})

t.test('a body over the limit is 413, refused from its Content-Length before it is read', async t => {
  const big = JSON.stringify({ blob: 'x'.repeat(64 * 1024) })
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/json', '--data-binary', big), 413, 'VALUE_TOO_LARGE')
  // The daemon answers as soon as the headers announce too much: the body is never sent.
  const early = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/v1/entities/m/a', method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => { body += s }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.write('{"blob":"')
  })
  t.equal(early.status, 413)
  t.equal(JSON.parse(early.body).code, 'VALUE_TOO_LARGE')
})

t.test('a chunked body is cut off once it passes the limit', async t => {
  const chunked = await put('/v1/entities/m/a', '-H', 'content-type: application/json', '-H', 'Transfer-Encoding: chunked', '--data-binary', JSON.stringify({ blob: 'x'.repeat(64 * 1024) }))
  isError(t, chunked, 413, 'VALUE_TOO_LARGE')
})

t.test('a value over --max-value-bytes but within the body slack is 413 too', async t => {
  isError(t, await put('/v1/entities/m/a', '-H', 'content-type: application/json', '--data-binary', JSON.stringify({ blob: 'x'.repeat(2000) })), 413, 'VALUE_TOO_LARGE')
})

t.test('invalid keys in the path are 400 INVALID_KEY, percent-encoded dot segments included', async t => {
  const paths = [
    '/v1/entities/a/%2E%2E/b',
    '/v1/entities/a/%2e%2e',
    '/v1/entities/%2E%2E/etc/passwd',
    '/v1/entities/a%2F..%2Fb',
    '/v1/entities/a/./b',
    '/v1/entities//a',
    '/v1/entities/a/',
    '/v1/entities/a%20b',
    '/v1/entities/'
  ]
  for (const path of paths) {
    isError(t, await put(path, '-H', 'content-type: application/json', '--data-binary', '{"a":1}'), 400, 'INVALID_KEY')
    isError(t, await curl(sock, path), 400, 'INVALID_KEY')
  }
  isError(t, await curl(sock, '/v1/history/a/%2E%2E/b'), 400, 'INVALID_KEY')
  isError(t, await curl(sock, '/v1/entities/a/%2E%2E/b', ['-X', 'DELETE']), 400, 'INVALID_KEY')
  isError(t, await curl(sock, '/v1/entities?prefix=%2E%2E%20x'), 400, 'INVALID_KEY')
  isError(t, await curl(sock, '/v1/nodes?key=a/../b'), 400, 'INVALID_KEY')
})

t.test('malformed headers, queries and URLs are 400 BAD_REQUEST', async t => {
  const body = ['-H', 'content-type: application/json', '--data-binary', '{"a":1}']
  isError(t, await put('/v1/entities/m/a', '-H', 'If-Match: soon', ...body), 400, 'BAD_REQUEST')
  isError(t, await put('/v1/entities/m/a', '-H', 'If-None-Match: "3"', ...body), 400, 'BAD_REQUEST')
  isError(t, await put('/v1/entities/m/a', '-H', 'If-Match: "1"', '-H', 'If-None-Match: *', ...body), 400, 'BAD_REQUEST')
  isError(t, await put('/v1/entities/m/a', '-H', 'X-Correlation-Id: not-a-uuid', ...body), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/entities/m/a?version=first'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/entities?limit=0'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/entities?limit=5000'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/watch?since=-1'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/watch', ['-H', 'Last-Event-ID: yesterday']), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v1/entities/%E0%A4%A'), 400, 'BAD_REQUEST')
  isError(t, await curl(sock, '/v2/anything'), 404, 'NOT_FOUND')
})

t.test('after all that, the daemon still serves and nothing was written', async t => {
  const status = await curl(sock, '/v1/status')
  t.equal(status.status, 200)
  t.equal(status.json.appliedSeq, 0)
  t.equal(status.json.entities, 0)
  t.same((await curl(sock, '/v1/entities')).json.items, [])
  const ok = await put('/v1/entities/m/a', '-H', 'content-type: application/json', '--data-binary', '{"a":1}')
  t.equal(ok.status, 201)
})
