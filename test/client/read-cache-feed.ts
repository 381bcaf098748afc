/**
 * The read cache's feed (lib/client/read-cache.ts) on a scripted source: how
 * it takes resync events, a watch that gives up, and a key the daemon
 * refuses, without a daemon.
 */
import t from 'tap'
import type { Test } from 'tap'
import { ReadCache, type CacheSource } from '../../lib/client/read-cache.js'
import { CredregError } from '../../lib/errors.js'
import type { ChangeEvent, Entity } from '../../lib/types.js'
import { eventually } from '../fixtures/eventually.js'

const meta = { updatedAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', op: 'put' as const }

function entity (key: string, version: number): Entity {
  return { key, version, value: { version }, meta }
}

function change (key: string, version: number, seq: number, extra: Partial<ChangeEvent> = {}): ChangeEvent {
  return { seq, key, version, prevVersion: version - 1, op: 'put', value: { version }, patch: [], meta, ...extra }
}

/** A source whose watch of each prefix yields the changes `push` gives it and throws the errors. */
function scripted (t: Test) {
  const closing = new AbortController()
  t.teardown(() => closing.abort())
  let starts = 0
  const pushes = new Map<string, (item: ChangeEvent | Error) => void>()
  const source: CacheSource = {
    appliedSeq: async () => { starts++; return 0 },
    watch: (prefix, _since, signal, onLink) => (async function * () {
      const queue: Array<ChangeEvent | Error> = []
      let wake: () => void = () => {}
      pushes.set(prefix, item => { queue.push(item); wake() })
      onLink(true)
      try {
        while (!signal.aborted) {
          const item = queue.shift()
          if (item === undefined) {
            await new Promise<void>(resolve => { wake = resolve; signal.addEventListener('abort', () => resolve(), { once: true }) })
            continue
          }
          if (item instanceof Error) throw item
          yield item
        }
      } finally {
        onLink(false)
      }
    })(),
    closed: closing.signal,
    initialDelayMs: 1,
    maxDelayMs: 1
  }
  return { source, push: (prefix: string, item: ChangeEvent | Error) => pushes.get(prefix)?.(item), starts: () => starts }
}

async function code (p: Promise<unknown>): Promise<string> {
  return await p.then(() => 'resolved', (err: CredregError) => err.code)
}

t.test('a resync event sets its key\'s state, a deleted one as NOT_FOUND', async (t) => {
  const { source, push } = scripted(t)
  const cache = new ReadCache({ prefixes: ['app/'] }, source)
  let reads = 0
  const read = (key: string, version: number) => async () => { reads++; return entity(key, version) }
  await cache.get('app/a', read('app/a', 1))
  await eventually(() => cache.status().watches[0]?.live, 'the watch to be live')
  await cache.get('app/a', read('app/a', 1))
  await cache.get('app/b', read('app/b', 1))
  push('app/', change('app/a', 7, 20, { op: 'resync', prevVersion: 0 }))
  push('app/', change('app/b', 3, 21, { op: 'resync', prevVersion: 0, deleted: true, value: undefined }))
  await eventually(() => cache.status().keys === 2 && cache.status().watches[0]?.lastEventAgeMs !== undefined, 'the events')
  const before = reads
  t.equal((await cache.get('app/a', read('app/a', 1))).version, 7)
  t.equal(await code(cache.get('app/b', read('app/b', 1))), 'NOT_FOUND')
  t.equal(reads, before, 'both from memory')
  t.equal(cache.status().watches[0]?.lastSeq, undefined, 'a resync is no sequence the watch reached')
})

t.test('a watch that gives up (WATCH_OVERFLOW) drops its keys and starts again', async (t) => {
  const { source, push, starts } = scripted(t)
  const cache = new ReadCache({ prefixes: ['app/', 'svc/'] }, source)
  await cache.get('app/a', async () => entity('app/a', 1))
  await eventually(() => cache.status().watches.every(w => w.live), 'the watches to be live')
  await cache.get('app/a', async () => entity('app/a', 1))
  await cache.get('svc/a', async () => entity('svc/a', 1))
  t.equal(cache.status().keys, 2)
  const started = starts()
  push('svc/', new CredregError('WATCH_OVERFLOW', 'fell behind'))
  await eventually(() => starts() > started && cache.status().watches[1]?.live, 'the watch to start again')
  t.equal(cache.status().watches[1]?.lastError, 'WATCH_OVERFLOW')
  t.equal(cache.status().keys, 1, 'svc/ was dropped, app/ kept')
  t.equal((await cache.get('svc/a', async () => entity('svc/a', 2))).version, 2, 'and refills by reading through')
  t.equal((await cache.get('svc/a', async () => entity('svc/a', 9))).version, 2, 'then from memory')
})

t.test('a key the daemon refuses is never cached', async (t) => {
  const { source, push } = scripted(t)
  const cache = new ReadCache({ prefixes: ['app/'] }, source)
  await cache.get('app/a', async () => entity('app/a', 1))
  await eventually(() => cache.status().watches[0]?.live, 'the watch to be live')
  // A change of the key comes while the read is in flight, and is kept for it until the refusal.
  const forbidden = async (): Promise<Entity> => {
    push('app/', change('app/secret', 2, 5))
    await eventually(() => cache.status().keys === 1, 'the change to be kept')
    throw new CredregError('FORBIDDEN', 'not granted')
  }
  t.equal(await code(cache.get('app/secret', forbidden)), 'FORBIDDEN')
  t.equal(await code(cache.get('app/secret', forbidden)), 'FORBIDDEN', 'asked again')
  t.equal(cache.status().keys, 0)
})
