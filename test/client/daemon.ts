/**
 * The client against a real standalone credregd (the compiled
 * dist/bin/credregd.js as a child process; run `npx tsc -p .` first).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Agent } from 'undici'
import { connect } from '../../lib/client/client.js'
import { ChangesetError, CredregError, VersionConflictError } from '../../lib/errors.js'
import type { ChangeEvent } from '../../lib/types.js'
import { startDaemon } from '../fixtures/daemon.js'
import type { DaemonProcess } from '../fixtures/daemon.js'
import { rejection } from '../fixtures/rejection.js'

// Starting daemons and restarting one three times takes longer than tap's default 30 s.
t.setTimeout(120_000)

async function until (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Watch streams `daemon` has open now (its `credreg_watchers` gauge). */
async function openWatches (daemon: DaemonProcess): Promise<number> {
  const { text } = await daemon.request('GET', '/metrics')
  const gauge = /^credreg_watchers (\d+)$/m.exec(text)
  if (gauge === null) throw new Error('no credreg_watchers in /metrics')
  return Number(gauge[1])
}

t.test('one daemon', async (t) => {
  const daemon = await startDaemon()
  const client = connect({ socket: daemon.socket })
  t.teardown(async () => {
    await client.close()
    await daemon.stop()
  })

  t.test('every method round-trips', async (t) => {
    const created = await client.put('app/db/password', { user: 'app', password: 'one' }, { correlationId: '01900000-0000-7000-8000-00000000c0de' })
    t.same(created, { key: 'app/db/password', version: 1, created: true, correlationId: '01900000-0000-7000-8000-00000000c0de' })
    t.match(await client.put('app/db/password', { user: 'app', password: 'two' }), { version: 2, created: false })
    t.match(await client.get('app/db/password'), {
      key: 'app/db/password',
      version: 2,
      value: { user: 'app', password: 'two' },
      meta: { op: 'put', nodeId: daemon.nodeId, correlationId: String, updatedAt: String }
    })
    t.same((await client.get('app/db/password', { version: 1 })).meta.correlationId, '01900000-0000-7000-8000-00000000c0de')
    t.match(await client.patch('app/db/password', [{ op: 'replace', path: '/password', value: 'three' }], { ifVersion: 2 }), { version: 3, created: false })
    t.match(await client.merge('app/db/password', { user: null, rotated: true }), { version: 4 })
    t.same((await client.get('app/db/password')).value, { password: 'three', rotated: true })
    await client.put('app/db/host', { host: 'db1' })
    await client.put('app/cache/url', { url: 'redis://c' })
    await client.put('other/x', { x: 1 })
    const page = await client.list('app/', { limit: 2 })
    t.same(page.items.map((i) => i.key), ['app/cache/url', 'app/db/host'])
    t.equal(typeof page.next, 'string')
    const rest = await client.list('app/', { after: page.next })
    t.same(rest.items.map((i) => i.key), ['app/db/password'])
    t.match(rest.items[0], { version: 4, updatedAt: String })
    t.match(await client.delete('app/db/password', { ifVersion: 4 }), { key: 'app/db/password', version: 5, created: false })
    t.same((await client.list('app/db/')).items.map((i) => i.key), ['app/db/host'], 'a deleted key leaves the listing')
    const history = await client.history('app/db/password')
    t.same(history.map((h) => [h.version, h.op]), [[1, 'put'], [2, 'put'], [3, 'patch'], [4, 'patch'], [5, 'delete']])
    t.match(history[2], { seq: Number, meta: { op: 'patch' }, patch: [{ op: 'replace', path: '/password', value: 'three' }] })
    t.match(await client.put('app/db/password', { password: 'again' }, { ifAbsent: true }), { version: 6, created: true }, 'create-only succeeds over a delete')
    const status = await client.status()
    t.match(status, { nodeId: daemon.nodeId, mode: 'standalone', namespace: 'default', lag: 0, nats: { connected: Boolean }, entities: 4, version: String })
    t.equal(status.appliedSeq, status.logSeq)
    t.match(await client.nodes(), [{ nodeId: daemon.nodeId, appliedSeq: status.appliedSeq, lag: 0, lastSeenS: Number }])
    t.match(await client.nodes({ key: 'app/db/password' }), [{ nodeId: daemon.nodeId, keyVersion: 6 }])
  })

  t.test('typed errors come back with their details', async (t) => {
    await client.put('err/k', { n: 1 })
    await client.put('err/k', { n: 2 })
    const stale = await rejection(client.put('err/k', { n: 3 }, { ifVersion: 1 }))
    t.type(stale, VersionConflictError)
    t.match(stale, { code: 'VERSION_CONFLICT', status: 412, key: 'err/k', expectedVersion: 1, currentVersion: 2 })
    const exists = await rejection(client.put('err/k', { n: 3 }, { ifAbsent: true }))
    t.match(exists, { code: 'VERSION_CONFLICT', currentVersion: 2, expectedVersion: undefined })
    t.match(await rejection(client.merge('err/k', { n: 3 }, { ifVersion: 5 })), { code: 'VERSION_CONFLICT', currentVersion: 2 })
    t.match(await rejection(client.delete('err/k', { ifVersion: 1 })), { code: 'VERSION_CONFLICT', currentVersion: 2 })
    t.equal((await client.get('err/k')).version, 2, 'a lost condition writes nothing')

    t.match(await rejection(client.get('err/absent')), { code: 'NOT_FOUND', status: 404 })
    t.match(await rejection(client.get('err/k', { version: 9 })), { code: 'NOT_FOUND' })
    t.match(await rejection(client.history('err/absent')), { code: 'NOT_FOUND' })
    t.match(await rejection(client.patch('err/absent', [{ op: 'add', path: '/a', value: 1 }])), { code: 'NOT_FOUND' })

    t.match(await rejection(client.patch('err/k', [{ op: 'test', path: '/n', value: 7 }])), { code: 'PATCH_FAILED', status: 422 })
    t.match(await rejection(client.patch('err/k', [{ op: 'remove', path: '/missing' }])), { code: 'PATCH_FAILED' })
    t.match(await rejection(client.put('err/v', [1, 2] as never)), { code: 'INVALID_VALUE', status: 400 })
    t.match(await rejection(client.put('err/v', { big: 'x'.repeat(70_000) })), { code: 'VALUE_TOO_LARGE', status: 413 })
    t.match(await rejection(client.put('err/k', { n: 3 }, { ifVersion: 2, ifAbsent: true })), { code: 'BAD_REQUEST' })
    t.equal((await client.get('err/k')).version, 2, 'nothing was written by any of them')
  })

  t.test('commit writes every change or none; a refusal is a ChangesetError naming every key that failed', async (t) => {
    await client.put('cs/user', { name: 'app' })
    const since = (await client.status()).appliedSeq
    const watch = client.watch('cs/', { since })
    const result = await client.commit([
      { key: 'cs/user', op: 'merge', patch: { name: 'app2' }, ifVersion: 1 },
      { key: 'cs/pass', op: 'put', value: { secret: 'n3w' }, ifAbsent: true },
      { key: 'cs/note', op: 'put', value: { n: 1 } }
    ], { correlationId: '01900000-0000-7000-8000-0000000c0c0c' })
    t.match(result, { id: String, seq: since + 1, correlationId: '01900000-0000-7000-8000-0000000c0c0c' })
    t.same(result.results, [
      { key: 'cs/user', version: 2, created: false },
      { key: 'cs/pass', version: 1, created: true },
      { key: 'cs/note', version: 1, created: true }
    ])
    t.match(await client.get('cs/user'), { version: 2, value: { name: 'app2' }, meta: { correlationId: '01900000-0000-7000-8000-0000000c0c0c' } })
    t.same((await client.history('cs/pass')).at(-1)?.changeset, { id: result.id, index: 1, size: 3 })
    const events: ChangeEvent[] = []
    for await (const e of watch) {
      events.push(e)
      if (events.length === 3) break
    }
    t.same(events.map((e) => [e.seq, e.key, e.changeset]), [0, 1, 2].map((index) => [result.seq, result.results[index]?.key, { id: result.id, index, size: 3 }]),
      'a watch delivers every change of the changeset, though they share one sequence')

    const refused = await rejection(client.commit([
      { key: 'cs/user', op: 'put', value: {}, ifVersion: 1 },
      { key: 'cs/pass', op: 'put', value: {}, ifAbsent: true },
      { key: 'cs/note', op: 'patch', ops: [{ op: 'test', path: '/n', value: 2 }] },
      { key: 'cs/none', op: 'delete' },
      { key: 'cs/fine', op: 'put', value: {} }
    ]))
    t.type(refused, ChangesetError)
    t.match(refused, { code: 'VERSION_CONFLICT', status: 412, retryable: false, message: /nothing was written/ })
    t.match((refused as ChangesetError).failures, [
      { key: 'cs/user', code: 'VERSION_CONFLICT', expectedVersion: 1, currentVersion: 2 },
      { key: 'cs/pass', code: 'VERSION_CONFLICT', currentVersion: 1 },
      { key: 'cs/note', code: 'PATCH_FAILED', message: String },
      { key: 'cs/none', code: 'NOT_FOUND', message: String }
    ])
    t.equal((refused as ChangesetError).failures.length, 4)
    const patchOnly = await rejection(client.commit([{ key: 'cs/note', op: 'patch', ops: [{ op: 'remove', path: '/missing' }] }]))
    t.type(patchOnly, ChangesetError)
    t.match(patchOnly, { code: 'PATCH_FAILED', status: 422, failures: [{ key: 'cs/note' }] })
    const large = await rejection(client.commit([{ key: 'cs/a', op: 'put', value: { x: 'y'.repeat(40_000) } }, { key: 'cs/b', op: 'put', value: { x: 'y'.repeat(40_000) } }]))
    t.notOk(large instanceof ChangesetError, 'a changeset too large is no key\'s failure')
    t.match(large, { code: 'VALUE_TOO_LARGE', status: 413 })
    t.equal((await client.status()).appliedSeq, result.seq, 'no refusal wrote anything')
  })

  t.test('the client refuses an invalid key exactly as the daemon does', async (t) => {
    const sent = daemon.logs.length
    // The raw path, as sent: a URL parser would fold `%2E%2E` into `..` and resolve it.
    const raw = new Agent({ connect: { socketPath: daemon.socket } })
    t.teardown(() => raw.close())
    for (const [key, path] of [['a/../b', 'a/%2E%2E/b'], ['a/./b', 'a/./b'], ['a//b', 'a//b'], ['sp ace', 'sp%20ace'], ['a/', 'a/']] as const) {
      const local = await rejection(client.get(key))
      const remote = await raw.request({ origin: 'http://localhost', path: `/v1/entities/${path}`, method: 'GET' })
      const body = await remote.body.json() as { code: string, message: string }
      t.equal(remote.statusCode, 400, `${key}: the daemon answers 400`)
      t.match(local, { code: 'INVALID_KEY', status: 400, message: body.message }, key)
    }
    t.match(await rejection(client.put('a/../b', {})), { code: 'INVALID_KEY' })
    t.match(await rejection(client.list('no spaces')), { code: 'INVALID_KEY' })
    t.ok(daemon.logs.slice(sent).every((l) => l.key !== 'a/../b' || l.msg !== 'write applied'))
  })

  t.test('watch delivers the log in order from since, and live changes without it', async (t) => {
    const before = (await client.status()).appliedSeq
    const live = client.watch('watch/')
    const fromStart = client.watch('', { since: 0 })
    const open = await openWatches(daemon)
    const firstLive = live.next()
    await until('the live watch to open', async () => await openWatches(daemon) > open)
    await client.put('watch/a', { n: 1 })
    await client.merge('watch/a', { n: 2 })
    await client.delete('watch/a')
    const events: ChangeEvent[] = []
    for await (const e of fromStart) {
      events.push(e)
      if (e.seq === before + 3) break
    }
    // The changes of a changeset (the test above) share one sequence: each comes once, in log order.
    t.same([...new Set(events.map((e) => e.seq))], Array.from({ length: before + 3 }, (_, i) => i + 1), 'every sequence, in order')
    t.equal(new Set(events.map((e) => `${e.seq} ${e.key}`)).size, events.length, 'every change once')
    t.match(events.slice(-3), [
      { key: 'watch/a', version: 1, prevVersion: 0, op: 'put', value: { n: 1 } },
      { key: 'watch/a', version: 2, prevVersion: 1, op: 'patch', value: { n: 2 }, patch: [{ op: 'replace', path: '/n', value: 2 }] },
      { key: 'watch/a', version: 3, prevVersion: 2, op: 'delete' }
    ])
    t.match((await firstLive).value, { seq: before + 1, key: 'watch/a', op: 'put' })
    await live.return?.()
  })

  t.test('close ends calls in flight and every later call with CLOSED', async (t) => {
    const own = connect({ socket: daemon.socket })
    await own.put('closing/k', { a: 1 })
    const watch = own.watch('closing/')
    const open = await openWatches(daemon)
    const pending = watch.next()
    await until('the watch to open', async () => await openWatches(daemon) > open)
    await own.close()
    t.same(await pending, { done: true, value: undefined }, 'an open watch ends')
    t.match(await rejection(own.get('closing/k')), { code: 'CLOSED' })
    t.match(await rejection(own.put('closing/k', {})), { code: 'CLOSED' })
    t.match(await rejection(own.watch().next()), { code: 'CLOSED' })
    t.equal((await client.get('closing/k')).version, 1, 'the daemon is untouched')
  })
})

t.test('a stopped daemon is UNAVAILABLE, and the same client works once it is back', async (t) => {
  const daemon = await startDaemon()
  const client = connect({ socket: daemon.socket })
  let stopped = false
  t.teardown(async () => {
    await client.close()
    if (!stopped) await daemon.stop()
  })
  await client.put('u/k', { a: 1 })
  const nowhere = connect({ socket: join(daemon.dataDir, 'no-such.sock') })
  t.match(await rejection(nowhere.status()), { code: 'UNAVAILABLE', retryable: true, cause: { code: 'ENOENT' } })
  await nowhere.close()
  await daemon.restart()
  t.equal((await client.get('u/k')).version, 1)
  stopped = true
  t.equal(await daemon.stop(), 0)
  const err = await rejection(client.get('u/k'))
  t.match(err, { code: 'UNAVAILABLE', status: 503, retryable: true })
  t.match(await rejection(client.put('u/k', { a: 2 })), { code: 'UNAVAILABLE' })
})

t.test('watch resumes across daemon restarts with no missing or repeated version', async (t) => {
  // History deep enough that no key is pruned (~25 versions each): a resume replays changes, never a resync.
  const daemon = await startDaemon({ args: ['--history', '100'] })
  const client = connect({ socket: daemon.socket })
  const writer = connect({ socket: daemon.socket })
  let stopped = false
  t.teardown(async () => {
    await client.close()
    await writer.close()
    if (!stopped) await daemon.stop()
  })
  const seen: ChangeEvent[] = []
  const watch = client.watch('r/')
  let ended: unknown
  const reading = (async () => { for await (const e of watch) seen.push(e) })()
    .then(() => { ended = 'the watch ended' }, (err: unknown) => { ended = err })
  const watching = (): boolean => {
    if (ended !== undefined) throw ended
    return true
  }
  await until('the watch to open', async () => watching() && await openWatches(daemon) === 1)

  /** Writes until stopped, through restarts: a write refused while the daemon is down is simply not counted. */
  /**
   * Writes in rounds of 40 that overlap each restart: a write refused while
   * the daemon is down is tried again and counted once it is acknowledged.
   */
  let budget = 0
  let acknowledged = 0
  let writing = true
  const writes = (async () => {
    for (let i = 0; ; i++) {
      if (!writing) break
      if (acknowledged >= budget) {
        await sleep(10)
        continue
      }
      try {
        await writer.put(`r/k${i % 5}`, { i })
        acknowledged++
      } catch (err) {
        if (!(err instanceof CredregError) || err.code !== 'UNAVAILABLE') throw err
        await sleep(20)
      }
    }
  })()
  for (let round = 0; round < 3; round++) {
    budget += 40
    const midway = budget - 20
    await until(`20 writes in round ${round}`, () => watching() && acknowledged >= midway)
    await until(`the watch to see them in round ${round}`, () => watching() && (seen.at(-1)?.seq ?? 0) >= midway)
    await daemon.restart()
  }
  budget += 20
  await until('the writes after the last restart', () => acknowledged >= budget)
  writing = false
  await writes
  const { appliedSeq } = await writer.status()
  await until(`the watch to reach seq ${appliedSeq}`, () => watching() && seen.at(-1)?.seq === appliedSeq)
  await watch.return?.()
  await reading

  t.ok(appliedSeq >= 140, `${appliedSeq} writes across 3 restarts`)
  t.notOk(seen.some((e) => e.op === 'resync'), 'no resync')
  t.same(seen.map((e) => e.seq), Array.from({ length: appliedSeq }, (_, i) => i + 1), 'every sequence exactly once, in order')
  for (let k = 0; k < 5; k++) {
    const versions = seen.filter((e) => e.key === `r/k${k}`).map((e) => [e.prevVersion, e.version])
    t.same(versions, versions.map((_, i) => [i, i + 1]), `r/k${k}: versions 1..${versions.length}, none skipped or repeated`)
  }
  // The daemon's log lines may sit in its buffer until it exits.
  stopped = true
  t.equal(await daemon.stop(), 0)
  const opened = daemon.logs.filter((l) => l.msg === 'watch opened').map((l) => l.since)
  t.equal(opened.length, 4, 'each daemon run served the watch once')
  t.same(opened, [...opened].sort((a, b) => Number(a) - Number(b)), `each resumes after the last: since ${opened.join(', ')}`)
})

t.test('over TCP with a bearer token', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'credreg-token-'))
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, 'sesame-0123456789abcdef0123456789\n')
  await chmod(tokenFile, 0o600)
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const daemon = await startDaemon({ args: ['--listen', '127.0.0.1:0', '--token-file', tokenFile] })
  t.teardown(async () => { await daemon.stop() })
  const url = `http://127.0.0.1:${String(daemon.tcpPort)}`
  const client = connect({ url, token: 'sesame-0123456789abcdef0123456789' })
  const wrong = connect({ url, token: 'guess' })
  t.teardown(async () => {
    await client.close()
    await wrong.close()
  })
  const watch = client.watch('tcp/', { since: 0 })
  t.match(await client.put('tcp/k', { a: 1 }), { version: 1, created: true })
  t.match(await client.get('tcp/k'), { version: 1, value: { a: 1 } })
  t.match((await watch.next()).value, { seq: 1, key: 'tcp/k', op: 'put' })
  await watch.return?.()
  t.match(await rejection(wrong.get('tcp/k')), { code: 'UNAUTHORIZED', status: 401, retryable: false })
  t.match(await rejection(wrong.put('tcp/k', { a: 2 })), { code: 'UNAUTHORIZED' })
  t.match(await rejection(wrong.watch('tcp/').next()), { code: 'UNAUTHORIZED' }, 'watch does not retry what retrying cannot fix')
  t.equal((await client.get('tcp/k')).version, 1)
})

t.test('a client watch whose consumer falls behind is closed by the daemon and resumes by itself: nothing missing or repeated', async (t) => {
  const daemon = await startDaemon({ args: ['--history', '1'] })
  t.teardown(() => daemon.stop())
  const client = connect({ socket: daemon.socket })
  t.teardown(() => client.close())
  const start = (await client.status()).appliedSeq
  const watch = client.watch('lag/', { since: start })
  const first = watch.next()
  // The consumer takes nothing while ~25 MB of changes land: the daemon's 8 MiB queue for it overflows.
  const filler = 'x'.repeat(48 * 1024)
  for (let i = 0; i < 400; i += 8) {
    await Promise.all(Array.from({ length: 8 }, async (_, j) => await client.put(`lag/${i + j}`, { i: i + j, filler })))
  }
  const end = (await client.status()).appliedSeq
  const seqs = [(await first).value.seq as number]
  while ((seqs.at(-1) as number) < end) seqs.push(((await watch.next()).value as ChangeEvent).seq)
  await watch.return?.()
  t.same(seqs, Array.from({ length: end - start }, (_, i) => start + i + 1))
  t.match((await daemon.request('GET', '/metrics')).text, /^credreg_watch_overflows_total\{reason="overflow"\} [1-9]/m, 'the daemon did close it for falling behind')
})
