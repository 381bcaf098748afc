/**
 * The version rule of the read cache's entries (lib/client/cache-slots.ts):
 * a key's slot only moves forward, whichever order reads, events and own
 * writes come in.
 */
import t from 'tap'
import { CacheSlots } from '../../lib/client/cache-slots.js'
import type { Entity } from '../../lib/types.js'

function entity (key: string, version: number): Entity {
  return { key, version, value: { version }, meta: { updatedAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', op: 'put' } }
}

t.test('a slot takes only a newer version, or the state of the version it waits for', async (t) => {
  const cases: Array<[string, (s: CacheSlots) => void, { version: number, state: 'entity' | 'tombstone' | 'unknown' } | undefined]> = [
    ['a read fills', s => s.offer('k', 3, entity('k', 3), true), { version: 3, state: 'entity' }],
    ['an event for a key not held is ignored', s => s.offer('k', 3, entity('k', 3)), undefined],
    ['an older event does not undo a read', s => { s.offer('k', 3, entity('k', 3), true); s.offer('k', 2, entity('k', 2)) }, { version: 3, state: 'entity' }],
    ['a newer event replaces it', s => { s.offer('k', 3, entity('k', 3), true); s.offer('k', 4, null) }, { version: 4, state: 'tombstone' }],
    ['an own write makes the state unknown', s => { s.offer('k', 3, entity('k', 3), true); s.raise('k', 4) }, { version: 4, state: 'unknown' }],
    ['the event of that write fills it', s => { s.offer('k', 3, entity('k', 3), true); s.raise('k', 4); s.offer('k', 4, entity('k', 4)) }, { version: 4, state: 'entity' }],
    ['a read older than an own write does not fill', s => { s.offer('k', 3, entity('k', 3), true); s.raise('k', 5); s.offer('k', 4, entity('k', 4), true) }, { version: 5, state: 'unknown' }],
    ['an own write older than an event changes nothing', s => { s.offer('k', 3, entity('k', 3), true); s.raise('k', 2) }, { version: 3, state: 'entity' }],
    ['an own write to a key not held is not remembered', s => s.raise('k', 2), undefined],
    ['while a read is in flight, events are kept for it', s => { s.track('k'); s.offer('k', 5, entity('k', 5)); s.offer('k', 4, entity('k', 4), true) }, { version: 5, state: 'entity' }],
    ['while a read is in flight, an own write is kept for it', s => { s.track('k'); s.raise('k', 5); s.offer('k', 4, entity('k', 4), true) }, { version: 5, state: 'unknown' }]
  ]
  for (const [name, run, expected] of cases) {
    const slots = new CacheSlots(10)
    run(slots)
    const slot = slots.peek('k')
    const got = slot === undefined ? undefined : { version: slot.version, state: slot.state === null ? 'tombstone' : slot.state === undefined ? 'unknown' : 'entity' }
    t.same(got, expected, name)
  }
})

t.test('beyond maxKeys the least recently used key goes, never one being read', async (t) => {
  const slots = new CacheSlots(2)
  slots.offer('a', 1, entity('a', 1), true)
  slots.offer('b', 1, entity('b', 1), true)
  slots.hit('a')
  slots.offer('c', 1, entity('c', 1), true)
  t.equal(slots.size, 2)
  t.ok(slots.hit('a'), 'the recently read key stays')
  t.notOk(slots.hit('b'), 'the least recently read one went')
  const done = slots.track('c')
  slots.hit('a')
  slots.offer('d', 1, entity('d', 1), true)
  t.ok(slots.hit('c'), 'a key with a read in flight stays, though least recently used')
  t.notOk(slots.hit('a'))
  done()
  slots.dropPrefix('')
  t.equal(slots.size, 0)
})
