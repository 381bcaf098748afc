/**
 * The client against a small in-memory server that speaks the HTTP API on a
 * real socket: what goes on the wire, how answers and failures are mapped,
 * and how watch reconnects. The end-to-end tests against credregd itself are
 * in test/client/daemon.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Test } from 'tap'
import { connect } from '../../lib/client/client.js'
import type { CredregClient } from '../../lib/client/client.js'
import { MAX_IDLE_OVERFLOWS } from '../../lib/client/watch.js'
import { ChangesetError, VersionConflictError } from '../../lib/errors.js'
import type { Change, ChangeEvent, JsonObject } from '../../lib/types.js'
import { eventually } from '../fixtures/eventually.js'
import { FakeDaemon } from '../fixtures/fake-credregd.js'
import { rejection } from '../fixtures/rejection.js'

async function setup (t: Test, options: { timeoutMs?: number } = {}): Promise<{ fake: FakeDaemon, client: CredregClient, socket: string }> {
  const socket = socketPath(t)
  const fake = await new FakeDaemon({ listen: socket }).start()
  const client = connect({ socket, reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options })
  t.teardown(async () => {
    await client.close()
    await fake.stop()
  })
  return { fake, client, socket }
}

/** A socket path short enough for sun_path (108 bytes), which tap's test dirs are not. */
function socketPath (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'credreg-client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'credregd.sock')
}

/** Resolves once the fake has received `requests` watch requests in all and exactly one watch stream is open. */
async function watching (fake: FakeDaemon, requests: number): Promise<void> {
  await eventually(() => fake.requests.filter((r) => r.url.startsWith('/v1/watch')).length >= requests && fake.openWatches === 1,
    `watch request ${requests} to be open`)
}

async function take (it: AsyncIterator<ChangeEvent>, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = []
  while (out.length < n) {
    const r = await it.next()
    if (r.done === true) break
    out.push(r.value)
  }
  return out
}

t.test('put creates then updates, and get reads it back with its meta', async (t) => {
  const { fake, client } = await setup(t)
  const created = await client.put('svc/db/password', { password: 'a' }, { correlationId: '0190a4a8-0000-7000-8000-000000000001' })
  t.same(created, { key: 'svc/db/password', version: 1, created: true, correlationId: '0190a4a8-0000-7000-8000-000000000001' })
  const updated = await client.put('svc/db/password', { password: 'b' })
  t.match(updated, { key: 'svc/db/password', version: 2, created: false, correlationId: String })
  const entity = await client.get('svc/db/password')
  t.match(entity, { key: 'svc/db/password', version: 2, value: { password: 'b' }, meta: { op: 'put', nodeId: 'fake' } })
  t.same((await client.get('svc/db/password', { version: 1 })).value, { password: 'a' })
  const put = fake.requests.find((r) => r.method === 'PUT')
  t.equal(put?.url, '/v1/entities/svc/db/password')
  t.equal(put?.headers['content-type'], 'application/json')
  t.equal(put?.headers['x-correlation-id'], '0190a4a8-0000-7000-8000-000000000001')
  t.equal(fake.requests.at(-1)?.url, '/v1/entities/svc/db/password?version=1')
})

t.test('conditional writes send If-Match and If-None-Match, and a lost condition is a VersionConflictError', async (t) => {
  const { fake, client } = await setup(t)
  await client.put('a/k', { n: 1 }, { ifAbsent: true })
  t.equal(fake.requests.at(-1)?.headers['if-none-match'], '*')
  const absent = await rejection(client.put('a/k', { n: 2 }, { ifAbsent: true }))
  t.type(absent, VersionConflictError)
  t.match(absent, { code: 'VERSION_CONFLICT', status: 412, currentVersion: 1, key: 'a/k' })
  await client.put('a/k', { n: 2 }, { ifVersion: 1 })
  t.equal(fake.requests.at(-1)?.headers['if-match'], '"1"')
  const stale = await rejection(client.patch('a/k', [{ op: 'replace', path: '/n', value: 3 }], { ifVersion: 1 }))
  t.match(stale, { code: 'VERSION_CONFLICT', currentVersion: 2, expectedVersion: 1 })
  const staleDelete = await rejection(client.delete('a/k', { ifVersion: 7 }))
  t.match(staleDelete, { currentVersion: 2 })
  t.equal((await client.get('a/k')).version, 2, 'nothing was written')
  await client.put('a/k', { n: 3 }, { ifExists: true })
  t.equal(fake.requests.at(-1)?.headers['if-match'], '*', 'ifExists is If-Match: *')
  t.match(await rejection(client.delete('a/none', { ifExists: true })), { code: 'VERSION_CONFLICT', currentVersion: 0 })
  t.match(await rejection(client.put('a/k', { n: 4 }, { ifExists: true, ifVersion: 3 })), { code: 'BAD_REQUEST' })
})

t.test('patch sends JSON Patch, merge sends a merge patch, delete leaves a tombstone', async (t) => {
  const { fake, client } = await setup(t)
  await client.put('cfg/app', { a: 1, b: 2 })
  t.match(await client.patch('cfg/app', [{ op: 'replace', path: '/a', value: 10 }]), { version: 2, created: false })
  t.equal(fake.requests.at(-1)?.headers['content-type'], 'application/json-patch+json')
  t.same(JSON.parse(fake.requests.at(-1)?.body ?? ''), [{ op: 'replace', path: '/a', value: 10 }])
  t.match(await client.merge('cfg/app', { b: null, c: 3 }), { version: 3 })
  t.equal(fake.requests.at(-1)?.headers['content-type'], 'application/merge-patch+json')
  t.same((await client.get('cfg/app')).value, { a: 10, c: 3 })
  const failed = await rejection(client.patch('cfg/app', [{ op: 'test', path: '/a', value: 0 }]))
  t.match(failed, { code: 'PATCH_FAILED', status: 422, key: 'cfg/app' })
  t.match(await client.delete('cfg/app', { ifVersion: 3 }), { key: 'cfg/app', version: 4, created: false })
  t.equal(fake.requests.at(-1)?.headers['if-match'], '"3"')
  t.match(await rejection(client.get('cfg/app')), { code: 'NOT_FOUND', status: 404 })
})

t.test('commit posts the changes with the correlation id; a refusal comes back as a ChangesetError with every failure', async (t) => {
  const { fake, client } = await setup(t)
  const changes: Change[] = [{ key: 'cs/a', op: 'put', value: { n: 1 }, ifVersion: 2 }, { key: 'cs/b', op: 'delete' }]
  const failures = [
    { key: 'cs/a', code: 'VERSION_CONFLICT', message: 'cs/a: expected version 2, but the latest version is 3', expectedVersion: 2, currentVersion: 3 },
    { key: 'cs/b', code: 'NOT_FOUND', message: 'cs/b does not exist' }
  ]
  fake.override = { status: 412, body: JSON.stringify({ code: 'VERSION_CONFLICT', message: 'the changeset was refused', failures }) }
  const err = await rejection(client.commit(changes, { correlationId: '0190a4a8-0000-7000-8000-0000000000c5' }))
  t.type(err, ChangesetError)
  t.match(err, { code: 'VERSION_CONFLICT', status: 412, message: 'the changeset was refused' })
  t.same((err as ChangesetError).failures, failures)
  const sent = fake.requests.at(-1)
  t.match(sent, { method: 'POST', url: '/v1/changesets', headers: { 'content-type': 'application/json', 'x-correlation-id': '0190a4a8-0000-7000-8000-0000000000c5' } })
  t.same(JSON.parse(sent?.body ?? ''), { changes })
})

t.test('commit checks the changes before anything is sent, as the daemon would', async (t) => {
  const { fake, client } = await setup(t)
  const cases: Array<[unknown, string, RegExp]> = [
    [{ key: 'a', op: 'delete' }, 'BAD_REQUEST', /an array of changes/],
    [[], 'BAD_REQUEST', /at least one change/],
    [Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, op: 'delete' })), 'BAD_REQUEST', /at most 64 keys/],
    [[{ key: 'a', op: 'put', value: {} }, { key: 'a', op: 'delete' }], 'BAD_REQUEST', /a appears twice/],
    [[{ key: 'a', op: 'upsert', value: {} }], 'BAD_REQUEST', /op must be put, patch, merge or delete/],
    [[{ key: 'a//b', op: 'delete' }], 'INVALID_KEY', /change 0: invalid key/],
    [[{ key: 'a', op: 'put', value: [1] }], 'INVALID_VALUE', /a put needs value/]
  ]
  for (const [changes, code, message] of cases) t.match(await rejection(client.commit(changes as Change[])), { code, message }, JSON.stringify(changes).slice(0, 60))
  t.equal(fake.requests.length, 0)
})

t.test('list pages through live keys under a prefix', async (t) => {
  const { fake, client } = await setup(t)
  for (const k of ['p/a', 'p/b', 'p/c', 'q/a']) await client.put(k, { k })
  await client.delete('p/b')
  const first = await client.list('p/', { limit: 1 })
  t.match(first, { items: [{ key: 'p/a', version: 1, updatedAt: String }], next: 'p/a' })
  t.equal(fake.requests.at(-1)?.url, '/v1/entities?prefix=p%2F&limit=1')
  const rest = await client.list('p/', { after: first.next })
  t.same(rest.items.map((i) => i.key), ['p/c'])
  t.notOk('next' in rest)
  t.same((await client.list()).items.map((i) => i.key), ['p/a', 'p/c', 'q/a'])
  t.equal(fake.requests.at(-1)?.url, '/v1/entities')
})

t.test('history lists retained versions oldest first', async (t) => {
  const { client } = await setup(t)
  await client.put('h/k', { a: 1 })
  await client.merge('h/k', { a: 2 })
  await client.delete('h/k')
  const history = await client.history('h/k')
  t.match(history, [
    { version: 1, seq: 1, op: 'put', patch: [{ op: 'add', path: '/a', value: 1 }] },
    { version: 2, seq: 2, op: 'patch', patch: [{ op: 'replace', path: '/a', value: 2 }] },
    { version: 3, seq: 3, op: 'delete', meta: { op: 'delete' } }
  ])
  t.match(await rejection(client.history('h/never')), { code: 'NOT_FOUND' })
})

t.test('status and nodes report the daemon', async (t) => {
  const { fake, client } = await setup(t)
  await client.put('n/k', { a: 1 })
  t.match(await client.status(), { nodeId: 'fake', mode: 'standalone', appliedSeq: 1, nats: { connected: false } })
  t.match(await client.nodes(), [{ nodeId: 'fake', appliedSeq: 1 }])
  t.match(await client.nodes({ key: 'n/k' }), [{ nodeId: 'fake', keyVersion: 1 }])
  t.equal(fake.requests.at(-1)?.url, '/v1/nodes?key=n%2Fk')
})

t.test('keys are checked before anything is sent, as the daemon would', async (t) => {
  const { fake, client } = await setup(t)
  for (const key of ['', 'a//b', '/a', 'a/../b', 'a/./b', 'sp ace', 'x'.repeat(257)]) {
    t.match(await rejection(client.get(key)), { code: 'INVALID_KEY', status: 400 }, JSON.stringify(key))
    t.match(await rejection(client.put(key, {})), { code: 'INVALID_KEY' })
  }
  t.match(await rejection(client.list('bad prefix')), { code: 'INVALID_KEY' })
  t.match(await rejection(take(client.watch('bad prefix'), 1)), { code: 'INVALID_KEY' })
  t.equal(fake.requests.length, 0)
  await t.rejects(client.get('k', { version: -1 }), TypeError)
  await t.rejects(client.put('k', {}, { ifVersion: 1.5 }), TypeError)
  t.throws(() => connect({} as never), TypeError)
  t.throws(() => connect({ url: 'ftp://h', token: 't' }), TypeError)
})

t.test('an error answer that is not JSON keeps the code of its status', async (t) => {
  const { fake, client } = await setup(t)
  fake.override = { status: 503, body: 'upstream down' }
  t.match(await rejection(client.status()), { code: 'UNAVAILABLE', message: 'HTTP 503: upstream down', retryable: true })
  fake.override = { status: 200, body: 'not json' }
  t.match(await rejection(client.status()), { code: 'INTERNAL' })
})

t.test('a missing socket or a stopped daemon is UNAVAILABLE', async (t) => {
  const { fake, client } = await setup(t)
  const nowhere = connect({ socket: join(socketPath(t), '..', 'nope.sock') })
  t.teardown(() => nowhere.close())
  const missing = await rejection(nowhere.status())
  t.match(missing, { code: 'UNAVAILABLE', retryable: true, cause: { code: 'ENOENT' } })
  await client.put('u/k', { a: 1 })
  await fake.stop()
  t.match(await rejection(client.get('u/k')), { code: 'UNAVAILABLE' })
  await fake.start()
  t.equal((await client.get('u/k')).version, 1, 'the same client works again once the daemon is back')
})

t.test('a daemon that does not answer in time is TIMEOUT', async (t) => {
  const { fake, client } = await setup(t, { timeoutMs: 150 })
  fake.stall = true
  t.match(await rejection(client.get('slow/k')), { code: 'TIMEOUT', status: 504, retryable: true })
})

t.test('close ends requests in flight and every later call with CLOSED', async (t) => {
  const { fake, client } = await setup(t)
  await client.put('c/k', { a: 1 })
  fake.stall = true
  const seen = fake.requests.length
  const inFlight = rejection(client.get('c/k'))
  await eventually(() => fake.requests.length > seen, 'the daemon to receive the request')
  await client.close()
  t.match(await inFlight, { code: 'CLOSED' })
  const calls: Array<Promise<unknown>> = [
    client.get('c/k'), client.put('c/k', {}), client.patch('c/k', []), client.merge('c/k', {}), client.delete('c/k'),
    client.list(), client.history('c/k'), client.status(), client.nodes(), take(client.watch(), 1), client.commit([{ key: 'c/k', op: 'delete' }])
  ]
  for (const call of calls) t.match(await rejection(call), { code: 'CLOSED', retryable: false })
  await client.close()
  t.pass('close is idempotent')
})

t.test('await using closes the client', async (t) => {
  const { client } = await setup(t)
  {
    await using scoped = client
    await scoped.put('d/k', { a: 1 })
  }
  t.match(await rejection(client.status()), { code: 'CLOSED' })
})

t.test('TCP sends the bearer token; a wrong one is UNAUTHORIZED', async (t) => {
  const fake = await new FakeDaemon({ listen: 0, token: 's3cret' }).start()
  const client = connect({ url: fake.url, token: 's3cret' })
  const wrong = connect({ url: fake.url, token: 'nope' })
  t.teardown(async () => {
    await client.close()
    await wrong.close()
    await fake.stop()
  })
  t.match(await client.put('tcp/k', { a: 1 }), { version: 1, created: true })
  t.equal(fake.requests.at(-1)?.headers.authorization, 'Bearer s3cret')
  t.match(await rejection(wrong.get('tcp/k')), { code: 'UNAUTHORIZED', status: 401, retryable: false })
  t.match(await rejection(take(wrong.watch('tcp/'), 1)), { code: 'UNAUTHORIZED' }, 'watch does not retry what retrying cannot fix')
})

t.test('watch delivers changes under its prefix in log order, from since or from now', async (t) => {
  const { fake, client } = await setup(t)
  await client.put('w/a', { n: 1 })
  await client.put('other/x', { n: 1 })
  const fromStart = client.watch('w/', { since: 0 })
  const live = client.watch('w/')
  const firstLive = take(live, 1)
  await watching(fake, 1)
  await client.merge('w/a', { n: 2 })
  await client.delete('w/a')
  t.match(await take(fromStart, 3), [
    { seq: 1, key: 'w/a', version: 1, prevVersion: 0, op: 'put', value: { n: 1 } },
    { seq: 3, key: 'w/a', version: 2, prevVersion: 1, op: 'patch', value: { n: 2 }, patch: [{ op: 'replace', path: '/n', value: 2 }] },
    { seq: 4, key: 'w/a', version: 3, op: 'delete' }
  ])
  t.match(await firstLive, [{ seq: 3, op: 'patch' }], 'without since, only what happens after the call')
  t.match(fake.requests.find((r) => r.url.startsWith('/v1/watch?prefix=w%2F&since=0')), { headers: { accept: 'text/event-stream' } })
  await fromStart.return?.()
  await live.return?.()
})

t.test('watch resumes across a daemon restart with no missing or repeated change', async (t) => {
  const { fake, client } = await setup(t)
  /** A real restart takes longer than one turn of the event loop: let the client see its connections close. */
  const restart = async (during: () => void = () => {}): Promise<void> => {
    await fake.stop()
    during()
    await sleep(50)
    await fake.start()
  }
  const seen: number[] = []
  const watch = client.watch('r/')
  const done = (async () => {
    for await (const change of watch) {
      seen.push(change.seq)
      if (change.seq === 40) break
    }
  })()
  const caughtUp = async (seq: number): Promise<void> => {
    while (seen.at(-1) !== seq) await sleep(10)
  }
  await watching(fake, 1)
  for (let i = 1; i <= 10; i++) await client.put(`r/k${i % 3}`, { i })
  await caughtUp(10)
  await restart(() => {
    for (let i = 11; i <= 20; i++) fake.write(`r/k${i % 3}`, 'put', { i })
  })
  for (let i = 21; i <= 30; i++) await client.put(`r/k${i % 3}`, { i })
  await caughtUp(30)
  await restart()
  for (let i = 31; i <= 40; i++) await client.put(`r/k${i % 3}`, { i })
  await done
  t.same(seen, Array.from({ length: 40 }, (_, i) => i + 1))
  const resumes = fake.requests.filter((r) => r.url.startsWith('/v1/watch')).map((r) => r.headers['last-event-id'])
  t.same(resumes, ['0', '10', '30'], 'each reconnect resumes from the last delivered sequence')
})

t.test('watch cut off inside a changeset resumes from before it and delivers each change of it once', async (t) => {
  const { fake, client } = await setup(t)
  const watch = client.watch('', { since: 0 })
  const got = take(watch, 8)
  await watching(fake, 1)
  fake.write('cs/first', 'put', { n: 1 })
  const put = (key: string): { key: string, op: 'put', value: JsonObject } => ({ key, op: 'put', value: { key } })
  fake.commit([put('cs/a'), put('cs/b'), put('cs/c')], { cutAfter: 1 })
  await watching(fake, 2)
  fake.commit([put('cs/d'), put('cs/e')], { cutAfter: 2 })
  await watching(fake, 3)
  fake.commit([put('cs/f'), put('cs/g')])
  fake.write('cs/last', 'put', { n: 2 })
  const changes = await got
  t.same(changes.map((c) => [c.seq, c.key, c.changeset?.index]), [
    [1, 'cs/first', undefined],
    [2, 'cs/a', 0], [2, 'cs/b', 1], [2, 'cs/c', 2],
    [3, 'cs/d', 0], [3, 'cs/e', 1],
    [4, 'cs/f', 0], [4, 'cs/g', 1]
  ], 'every change of every changeset, once, in order')
  t.match(await take(watch, 1), [{ seq: 5, key: 'cs/last' }])
  const resumes = fake.requests.filter((r) => r.url.startsWith('/v1/watch')).map((r) => r.headers['last-event-id'])
  t.same(resumes, ['0', '1', '3'], 'cut inside the changeset at 2, the watch resumed before it; cut after a whole one, after it')
  await watch.return?.()
})

t.test('watch started while the daemon is down waits for it', async (t) => {
  const { fake, client } = await setup(t)
  await fake.stop()
  const pending = take(client.watch('', { since: 0 }), 1)
  await sleep(150)
  await fake.start()
  fake.write('late/k', 'put', { a: 1 })
  t.match(await pending, [{ seq: 1, key: 'late/k' }])
})

t.test('a silent connection is dropped and reopened', async (t) => {
  const socket = socketPath(t)
  const fake = await new FakeDaemon({ listen: socket }).start()
  fake.heartbeatMs = 60_000
  const client = connect({ socket, reconnect: { initialDelayMs: 10, idleTimeoutMs: 300 } })
  t.teardown(async () => {
    await client.close()
    await fake.stop()
  })
  const watch = client.watch('', { since: 0 })
  const first = take(watch, 1)
  const watches = (): number => fake.requests.filter((r) => r.url.startsWith('/v1/watch')).length
  // undici checks body timeouts on a coarse (~0.5 s) timer
  for (let waited = 0; watches() < 2 && waited < 5000; waited += 50) await sleep(50)
  t.ok(watches() >= 2, `reconnected after silence (${watches()} connections)`)
  fake.write('idle/k', 'put', { a: 1 })
  t.match(await first, [{ seq: 1 }])
  await watch.return?.()
})

t.test('return() ends a watch even while a next() is waiting', async (t) => {
  const { fake, client } = await setup(t)
  const watch = client.watch('', { since: 0 })
  const pending = watch.next()
  while (fake.requests.every((r) => !r.url.startsWith('/v1/watch'))) await sleep(10)
  t.same(await watch.return?.(), { done: true, value: undefined })
  t.same(await pending, { done: true, value: undefined })
  t.same(await watch.next(), { done: true, value: undefined })
})

t.test('watch ends when its signal aborts, when the loop breaks, and when the client closes', async (t) => {
  const { fake, client } = await setup(t)
  const controller = new AbortController()
  const aborted = take(client.watch('', { signal: controller.signal }), 5)
  await watching(fake, 1)
  controller.abort()
  t.same(await aborted, [])
  const closing = client.watch('', { since: 0 })
  const first = closing.next()
  await watching(fake, 2)
  fake.write('e/k', 'put', { a: 1 })
  t.match(await first, { done: false, value: { seq: 1 } }, 'delivers what came')
  await client.close()
  t.same(await closing.next(), { done: true, value: undefined }, 'then ends')
})

t.test('a resync event does not move the resume point, and the changes after it still arrive', async (t) => {
  const { fake, client } = await setup(t)
  const watch = client.watch('', { since: 0 })
  const got = take(watch, 2)
  await watching(fake, 1)
  const meta = { updatedAt: new Date().toISOString(), nodeId: 'fake', correlationId: 'c', op: 'put' }
  fake.inject(`id: 9\nevent: resync\ndata: ${JSON.stringify({ seq: 9, key: 'z/k', version: 4, prevVersion: 0, op: 'resync', value: { a: 1 }, patch: [], meta })}\n\n`)
  fake.write('a/k', 'put', { b: 1 })
  t.match(await got, [{ op: 'resync', seq: 9, key: 'z/k' }, { op: 'put', seq: 1, key: 'a/k' }])
  await watch.return?.()
})

t.test('an error event from the daemon is retried when retryable and thrown when not', async (t) => {
  const { fake, client } = await setup(t)
  const watch = client.watch('', { since: 0 })
  const got = take(watch, 2)
  await watching(fake, 1)
  fake.write('a/k', 'put', { n: 1 })
  fake.inject(`event: error\ndata: ${JSON.stringify({ code: 'UNAVAILABLE', message: 'log unreachable' })}\n\n`)
  await watching(fake, 2)
  fake.write('a/k', 'put', { n: 2 })
  t.match(await got, [{ seq: 1 }, { seq: 2 }], 'reconnected and resumed after 1')
  t.equal(fake.requests.filter((r) => r.url.startsWith('/v1/watch')).at(-1)?.headers['last-event-id'], '1')
  const fatal = take(watch, 1)
  fake.inject(`event: error\ndata: ${JSON.stringify({ code: 'LOG_DIVERGED', message: 'stream recreated' })}\n\n`)
  t.match(await rejection(fatal), { code: 'LOG_DIVERGED', message: 'stream recreated' })
})

t.test('an event that is not a change ends the watch with INTERNAL', async (t) => {
  const { fake, client } = await setup(t)
  let opened = 0
  for (const raw of ['event: put\ndata: {not json\n\n', 'event: put\ndata: {"hello":1}\n\n']) {
    const pending = take(client.watch('', { since: 0 }), 1)
    await watching(fake, ++opened)
    fake.inject(raw)
    t.match(await rejection(pending), { code: 'INTERNAL', message: /watch stream sent an event/ })
  }
  const ignored = take(client.watch('', { since: 0 }), 1)
  await watching(fake, ++opened)
  fake.inject('event: unknown-kind\ndata: whatever\n\n')
  fake.write('k/k', 'put', {})
  t.match(await ignored, [{ seq: 1 }], 'events of other types are skipped')
})

t.test('watch resumes from its cursor after an overflow close, and gives up after overflows in a row that deliver nothing', async (t) => {
  const { fake, client } = await setup(t)
  const watches = (): Array<string | string[] | undefined> => fake.requests.filter((r) => r.url.startsWith('/v1/watch')).map((r) => r.headers['last-event-id'])
  const closed = (lastSeq: number): string => `event: closed\ndata: ${JSON.stringify({ code: 'WATCH_OVERFLOW', message: 'behind', reason: 'overflow', lastSeq })}\n\n`
  const reconnected = async (count: number): Promise<void> => {
    for (let waited = 0; watches().length < count && waited < 5000; waited += 10) await sleep(10)
  }
  fake.write('o/a', 'put', { n: 1 })
  const watch = client.watch('o/', { since: 0 })
  t.match(await take(watch, 1), [{ seq: 1 }])
  fake.inject(closed(1))
  await reconnected(2)
  fake.write('o/b', 'put', { n: 2 })
  t.match(await take(watch, 1), [{ seq: 2 }], 'the change after the close arrives')
  t.same(watches(), ['0', '1'], 'the reconnection resumed from the last change delivered')

  const pending = rejection(take(watch, 1))
  fake.inject(closed(2)) // this connection delivered seq 2: not idle
  for (let n = 3; n < 3 + MAX_IDLE_OVERFLOWS; n++) {
    await reconnected(n)
    fake.inject(closed(2))
  }
  t.match(await pending, { code: 'WATCH_OVERFLOW', retryable: true }, 'a consumer that never gets a change is told, not looped forever')
  t.equal(watches().length, 2 + MAX_IDLE_OVERFLOWS)
})
