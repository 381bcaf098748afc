/**
 * lib/agent/key-feed.ts against a scripted client: one consistent snapshot
 * (read again when the daemon applied something meanwhile), then one state
 * per changeset or burst, taken from the change events in log order, with
 * other keys, stale versions and half changesets never yielding a state.
 */
import t from 'tap'
import type { CredregClient } from '../../lib/client/client.js'
import { CredregError } from '../../lib/errors.js'
import { KeyFeed, type FeedState } from '../../lib/agent/key-feed.js'
import type { ChangeEvent, JsonObject } from '../../lib/types.js'

interface Scripted {
  client: CredregClient
  /** Pushes an event to the open watch. */
  push: (event: Partial<ChangeEvent> & { key: string, seq: number, version: number }) => void
  /** The arguments of each watch() call. */
  watches: Array<{ prefix: string, since: number | undefined }>
  /** Values read by get(), by key. */
  entities: Map<string, { version: number, value: JsonObject }>
  /** appliedSeq answered by each status() call in turn; the last one repeats. */
  applied: number[]
}

function scripted (): Scripted {
  const queue: ChangeEvent[] = []
  let wake: (() => void) | undefined
  const s: Scripted = { client: undefined as unknown as CredregClient, push, watches: [], entities: new Map(), applied: [0] }
  function push (event: Partial<ChangeEvent> & { key: string, seq: number, version: number }): void {
    queue.push({ op: 'put', prevVersion: event.version - 1, patch: [], meta: { correlationId: `c${event.seq}` }, ...event } as unknown as ChangeEvent)
    wake?.()
  }
  s.client = {
    status: async () => ({ appliedSeq: s.applied.length > 1 ? s.applied.shift() : s.applied[0] }),
    get: async (key: string) => {
      const entity = s.entities.get(key)
      if (entity === undefined) throw new CredregError('NOT_FOUND', `no key ${key}`)
      return { key, ...entity }
    },
    watch: (prefix: string, options: { since?: number, signal: AbortSignal }) => {
      s.watches.push({ prefix, since: options.since })
      return (async function * () {
        while (!options.signal.aborted) {
          const next = queue.shift()
          if (next !== undefined) { yield next; continue }
          await new Promise<void>(resolve => {
            wake = resolve
            options.signal.addEventListener('abort', () => resolve(), { once: true })
          })
        }
      })()
    }
  } as unknown as CredregClient
  return s
}

/** Collects the feed's states until `count` arrived or `ms` passed. */
async function collect (feed: KeyFeed, count: number, ms = 1500): Promise<FeedState[]> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), ms)
  const states: FeedState[] = []
  try {
    for await (const state of feed.changes(controller.signal)) {
      states.push(state)
      if (states.length === count) break
    }
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return states
}

t.test('the snapshot holds every key that exists, at the applied sequence; a missing key is absent', async t => {
  const s = scripted()
  s.applied = [7]
  s.entities.set('app/db', { version: 2, value: { password: 'p' } })
  const state = await new KeyFeed(s.client, ['app/db', 'app/api']).snapshot()
  t.same([...state.values], [['app/db', { password: 'p' }]])
  t.equal(state.seq, 7)
  t.same(state.correlationIds, [])
})

t.test('reads during which the daemon applied something are read again', async t => {
  const s = scripted()
  s.applied = [3, 4, 4, 4]
  s.entities.set('k/a', { version: 1, value: { v: 1 } })
  const state = await new KeyFeed(s.client, ['k/a']).snapshot()
  t.equal(state.seq, 4, 'the second attempt counts')
  t.same(s.applied, [4], 'both answers of the first attempt and one of the second were used')
})

t.test('the watch starts at the snapshot, on the keys\' common prefix', async t => {
  const s = scripted()
  s.applied = [9]
  const feed = new KeyFeed(s.client, ['svc/db/pass', 'svc/db/user', 'svc/api'], { debounceMs: 10 })
  await feed.snapshot()
  await collect(feed, 1, 50)
  t.same(s.watches, [{ prefix: 'svc/', since: 9 }])
})

t.test('a changeset over two keys is one state with both values and one correlation id', async t => {
  const s = scripted()
  s.entities.set('a/x', { version: 1, value: { v: 'x1' } })
  s.entities.set('a/y', { version: 1, value: { v: 'y1' } })
  const feed = new KeyFeed(s.client, ['a/x', 'a/y'], { debounceMs: 20 })
  await feed.snapshot()
  s.push({ key: 'a/x', seq: 5, version: 2, value: { v: 'x2' }, changeset: { id: 'cs', index: 0, size: 2 }, meta: { correlationId: 'cs' } } as never)
  setTimeout(() => s.push({ key: 'a/y', seq: 5, version: 2, value: { v: 'y2' }, changeset: { id: 'cs', index: 1, size: 2 }, meta: { correlationId: 'cs' } } as never), 100)
  const states = await collect(feed, 2, 600)
  t.equal(states.length, 1, 'no state between the two changes, though the debounce passed')
  t.same(Object.fromEntries(states[0]?.values ?? []), { 'a/x': { v: 'x2' }, 'a/y': { v: 'y2' } })
  t.same(states[0]?.correlationIds, ['cs'])
  t.equal(states[0]?.seq, 5)
})

t.test('a burst of writes is one state; other keys and versions the snapshot had make none', async t => {
  const s = scripted()
  s.entities.set('b/x', { version: 3, value: { v: 3 } })
  const feed = new KeyFeed(s.client, ['b/x'], { debounceMs: 50 })
  await feed.snapshot()
  s.push({ key: 'b/other', seq: 10, version: 1, value: { v: 'o' } })
  s.push({ key: 'b/x', seq: 11, version: 3, value: { v: 'stale' } })
  const none = await collect(feed, 1, 200)
  t.same(none, [], 'nothing to render')

  const s2 = scripted()
  s2.entities.set('b/x', { version: 3, value: { v: 3 } })
  const feed2 = new KeyFeed(s2.client, ['b/x'], { debounceMs: 50 })
  await feed2.snapshot()
  s2.push({ key: 'b/x', seq: 12, version: 4, value: { v: 4 } })
  s2.push({ key: 'b/x', seq: 13, version: 5, value: { v: 5 } })
  const states = await collect(feed2, 2, 400)
  t.equal(states.length, 1)
  t.same(states[0]?.values.get('b/x'), { v: 5 }, 'the latest value')
  t.same(states[0]?.correlationIds, ['c12', 'c13'])
})

t.test('a delete removes the key from the state', async t => {
  const s = scripted()
  s.entities.set('d/x', { version: 1, value: { v: 1 } })
  const feed = new KeyFeed(s.client, ['d/x'], { debounceMs: 10 })
  await feed.snapshot()
  s.push({ key: 'd/x', seq: 2, version: 2, op: 'delete' })
  const states = await collect(feed, 1)
  t.equal(states[0]?.values.has('d/x'), false)
})
