/**
 * The client's read cache (`connect({ socket, cache })`) against a real
 * standalone credregd (the compiled dist/bin/credregd.js; run `npx tsc -p .`
 * first): what it serves, how it follows other writers, and what it does
 * while the daemon is gone.
 */
import { join } from 'node:path'
import t from 'tap'
import { connect } from '../../lib/client/client.js'
import type { CredregClient } from '../../lib/client/client.js'
import { CredregError } from '../../lib/errors.js'
import { readKeyFile } from '../../lib/key-file.js'
import { openNode } from '../../lib/node.js'
import { startDaemon } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { rejection } from '../fixtures/rejection.js'

// Daemon starts and restarts take seconds each on a busy machine.
t.setTimeout(120_000)

/** Resolves once `client`'s cache watches are all live. */
async function live (client: CredregClient): Promise<void> {
  await eventually(() => client.cacheStatus()?.watches.every(w => w.live), 'the cache watches to be live')
}

t.test('one daemon', async (t) => {
  const daemon = await startDaemon()
  const other = connect({ socket: daemon.socket })
  const cached = connect({ socket: daemon.socket, cache: { prefixes: ['app/', 'svc/'] } })
  t.teardown(async () => {
    await cached.close()
    await other.close()
    await daemon.stop()
  })
  await other.put('app/a', { n: 1 })
  await other.put('svc/b', { n: 1 })
  await other.put('other/c', { n: 1 })
  await cached.get('app/a')
  await live(cached)

  t.test('a cached get equals the daemon\'s get, after writes by another client', async (t) => {
    await other.put('app/a', { n: 2 })
    await other.merge('app/a', { m: true })
    await other.patch('app/a', [{ op: 'replace', path: '/n', value: 3 }])
    const expected = await other.get('app/a')
    t.same(await eventually(async () => { const e = await cached.get('app/a'); return e.version === expected.version && e }, 'app/a at its latest version'), expected)
    const { hits } = cached.cacheStatus() ?? { hits: 0 }
    t.same(await cached.get('app/a'), expected)
    t.equal(cached.cacheStatus()?.hits, hits + 1, 'served from memory')
  })

  t.test('a write by another client becomes visible through the watch', async (t) => {
    await cached.get('svc/b')
    const { version } = await other.put('svc/b', { n: 'changed' })
    const seen = await eventually(async () => { const e = await cached.get('svc/b'); return e.version === version && e }, 'the other client\'s write')
    t.same(seen.value, { n: 'changed' })
    t.same(seen, await other.get('svc/b'))
    const { version: gone } = await other.delete('svc/b')
    const err = await eventually(async () => await cached.get('svc/b').then(() => undefined, (err: CredregError) => err), 'the delete')
    t.equal(err.code, 'NOT_FOUND', 'a cached tombstone answers NOT_FOUND')
    t.equal(err.key, 'svc/b')
    t.ok(gone > version)
  })

  t.test('own writes are visible at once (read-your-writes)', async (t) => {
    const key = 'app/ryw'
    for (let i = 0; i < 20; i++) {
      const { version } = await cached.put(key, { i })
      const read = await cached.get(key)
      t.equal(read.version, version, `put ${i}`)
      t.same(read.value, { i })
    }
    const { version: patched } = await cached.patch(key, [{ op: 'add', path: '/p', value: true }])
    t.equal((await cached.get(key)).version, patched, 'patch')
    const { version: merged } = await cached.merge(key, { m: 1 })
    t.same(await cached.get(key), await other.get(key), 'merge')
    t.ok(merged > patched)
    const { results } = await cached.commit([{ key, op: 'put', value: { c: 1 } }, { key: 'app/ryw2', op: 'put', value: { c: 2 } }])
    t.equal((await cached.get(key)).version, results[0]?.version, 'commit')
    t.same((await cached.get('app/ryw2')).value, { c: 2 })
    await cached.delete(key)
    t.equal((await rejection(cached.get(key))).code, 'NOT_FOUND', 'delete')
    await cached.commit([{ key: 'app/ryw2', op: 'delete' }])
    t.equal((await rejection(cached.get('app/ryw2'))).code, 'NOT_FOUND', 'delete in a commit')
    const { version: back } = await cached.put(key, { again: true })
    t.equal((await cached.get(key)).version, back, 'a put after a delete')
  })

  t.test('only the latest version of a cached prefix is cached', async (t) => {
    await cached.get('other/c')
    await other.put('other/c', { n: 2 })
    t.equal((await cached.get('other/c')).version, 2, 'a key outside the prefixes reads through')
    t.equal((await cached.get('app/a', { version: 1 })).version, 1, 'a version read reads through')
    t.equal((await rejection(cached.get('app/never'))).code, 'NOT_FOUND', 'a key never seen is NOT_FOUND')
    await other.put('app/never', { now: true })
    t.same((await cached.get('app/never')).value, { now: true }, 'and is not cached as missing')
    t.equal((await rejection(cached.get('app/../x'))).code, 'INVALID_KEY')
  })

  t.test('status tells the watches\' state', async (t) => {
    const status = cached.cacheStatus()
    t.match(status, { maxKeys: 10_000, keys: Number, hits: Number, misses: Number })
    t.match(status?.watches, [{ prefix: 'app/', live: true, serving: true }, { prefix: 'svc/', live: true, serving: true }])
    t.match(status?.watches[0], { lastSeq: Number, lastEventAgeMs: Number })
    t.equal(connect({ socket: daemon.socket }).cacheStatus(), undefined, 'undefined without a cache')
  })

  t.test('a closed client answers CLOSED, though it holds the key', async (t) => {
    const client = connect({ socket: daemon.socket, cache: { prefixes: ['app/'] } })
    await client.get('app/a')
    await live(client)
    await client.get('app/a')
    t.equal(client.cacheStatus()?.keys, 1)
    await client.close()
    t.equal((await rejection(client.get('app/a'))).code, 'CLOSED')
  })
})

t.test('maxKeys bounds the keys held, the least recently read going first', async (t) => {
  const daemon = await startDaemon()
  const other = connect({ socket: daemon.socket })
  const cached = connect({ socket: daemon.socket, cache: { prefixes: ['k/'], maxKeys: 3 } })
  t.teardown(async () => {
    await cached.close()
    await other.close()
    await daemon.stop()
  })
  for (let i = 0; i < 5; i++) await other.put(`k/${i}`, { i })
  await cached.get('k/0')
  await live(cached)
  for (let i = 0; i < 5; i++) t.same((await cached.get(`k/${i}`)).value, { i })
  t.equal(cached.cacheStatus()?.keys, 3)
  const { hits } = cached.cacheStatus() ?? { hits: 0 }
  await cached.get('k/4')
  t.equal(cached.cacheStatus()?.hits, hits + 1, 'a recent key is held')
  await cached.get('k/0')
  t.equal(cached.cacheStatus()?.hits, hits + 1, 'an old one was evicted and reads through')
  t.equal(cached.cacheStatus()?.keys, 3)
})

t.test('connect refuses a malformed cache option', async (t) => {
  t.throws(() => connect({ socket: '/nowhere', cache: { prefixes: [] } }), TypeError)
  t.throws(() => connect({ socket: '/nowhere', cache: { prefixes: ['a/', 'a/b/'] } }), TypeError, 'overlapping prefixes')
  t.throws(() => connect({ socket: '/nowhere', cache: { prefixes: ['a/'], maxKeys: 0 } }), TypeError)
  t.throws(() => connect({ socket: '/nowhere', cache: { prefixes: ['a/'], staleAfterMs: -1 } }), TypeError)
})

/** Writes `key` as `value` `times` times with the daemon stopped, through a node on its data dir. */
async function writeOffline (dataDir: string, key: string, value: object, times: number): Promise<void> {
  const dataKey = await readKeyFile(join(dataDir, 'credregd.key'))
  const node = await openNode({ dataDir, dataKey, historyDepth: 2 })
  try {
    for (let i = 0; i < times; i++) await node.put(key, { ...value, i })
  } finally {
    await node.close()
  }
}

t.test('while the daemon is down, nothing is served past staleAfterMs; then the cache refills', async (t) => {
  const daemon = await startDaemon({ args: ['--history', '2'] })
  const other = connect({ socket: daemon.socket })
  const cached = connect({ socket: daemon.socket, cache: { prefixes: ['app/'], staleAfterMs: 1000 }, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })
  t.teardown(async () => {
    await cached.close()
    await other.close()
    await daemon.stop()
  })
  await other.put('app/x', { v: 'before' })
  await cached.get('app/x')
  await live(cached)
  t.same((await cached.get('app/x')).value, { v: 'before' })

  await daemon.kill()
  await eventually(() => cached.cacheStatus()?.watches[0]?.live === false, 'the watch to go down')
  await writeOffline(daemon.dataDir, 'app/x', { v: 'while down' }, 1)
  const err = await eventually(async () => await cached.get('app/x').then(() => undefined, (err: CredregError) => err), 'gets to read through')
  t.equal(err.code, 'UNAVAILABLE', 'past staleAfterMs a get reads through and fails as the daemon does')
  t.ok((cached.cacheStatus()?.watches[0]?.downForMs ?? 0) >= 1000, 'not before staleAfterMs')
  t.equal(cached.cacheStatus()?.watches[0]?.serving, false)

  await daemon.restart()
  t.same((await cached.get('app/x')).value, { v: 'while down', i: 0 }, 'the write made while it was down')
  await live(cached)
  const { version } = await other.put('app/x', { v: 'after' })
  const seen = await eventually(async () => { const e = await cached.get('app/x'); return e.version === version && e }, 'the write after the restart')
  t.same(seen, await other.get('app/x'))
})

t.test('a resync event replaces what the cache holds of its key', async (t) => {
  const daemon = await startDaemon({ args: ['--history', '2'] })
  const other = connect({ socket: daemon.socket })
  // A bound longer than the restart: the cache keeps its keys through it and must be corrected by the watch.
  const cached = connect({ socket: daemon.socket, cache: { prefixes: ['app/'], staleAfterMs: 60_000 }, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })
  t.teardown(async () => {
    await cached.close()
    await other.close()
    await daemon.stop()
  })
  await other.put('app/r', { v: 'before' })
  await other.put('app/s', { v: 'before' })
  await cached.get('app/r')
  await live(cached)
  // Read once the watch has started: these fill the cache.
  await cached.get('app/r')
  await cached.get('app/s')
  t.equal(cached.cacheStatus()?.keys, 2)
  const { appliedSeq } = await other.status()

  await daemon.kill()
  await eventually(() => cached.cacheStatus()?.watches[0]?.live === false, 'the watch to go down')
  t.same((await cached.get('app/r')).value, { v: 'before' }, 'served within staleAfterMs while down')
  // Past the history depth: the versions the watch missed are pruned, so it gets a resync.
  await writeOffline(daemon.dataDir, 'app/r', { v: 'pruned' }, 4)
  await daemon.restart()
  await live(cached)
  const expected = await other.get('app/r')
  t.equal(expected.version, 5)
  const watch = other.watch('app/', { since: appliedSeq })
  t.match((await watch.next()).value, { op: 'resync', key: 'app/r', version: 5 }, 'what the cache\'s watch got on resuming')
  await watch.return?.()
  const { misses } = cached.cacheStatus() ?? { misses: 0 }
  t.same(await eventually(async () => { const e = await cached.get('app/r'); return e.version === 5 && e }, 'the resynced state'), expected)
  t.equal(cached.cacheStatus()?.misses, misses, 'from memory: the resync event filled it')
  t.same((await cached.get('app/s')).value, { v: 'before' }, 'an unchanged key stays')
})
