import t from 'tap'
import type { HeartbeatFields } from '../../lib/peers/heartbeat-record.js'
import { GONE_AFTER_INTERVALS, KEEP_GONE_INTERVALS, PeerTable } from '../../lib/peers/peer-table.js'

const INTERVAL = 1000
const started = '2026-01-01T00:00:00.000Z'

function hb (nodeId: string, beat: number, more: Partial<HeartbeatFields> = {}): HeartbeatFields {
  return { namespace: 'ns', nodeId, hostname: `host-${nodeId}`, startedAt: started, beat, at: started, appliedSeq: beat * 10, logSeq: beat * 10, version: '1.0.0', ...more }
}

/** A table whose clock moves only when told; `offer` records a heartbeat as written now. */
function table (cap?: number): { table: { offer: (f: HeartbeatFields, at?: number) => ReturnType<PeerTable['offer']>, peers: PeerTable['peers'], sweep: PeerTable['sweep'], alive: PeerTable['alive'] }, advance: (ms: number) => void, now: () => number } {
  let now = 1_000_000
  const inner = new PeerTable({ intervalMs: INTERVAL, now: () => now, ...(cap !== undefined ? { cap } : {}) })
  return {
    table: { offer: (f, at = now) => inner.offer(f, at), peers: () => inner.peers(), sweep: () => inner.sweep(), alive: () => inner.alive() },
    advance: ms => { now += ms },
    now: () => now
  }
}

t.test('a newer beat updates a peer; a replayed or older one changes nothing, not even when it was last seen', async t => {
  const { table: peers, advance } = table()
  t.equal(peers.offer(hb('a', 5)), 'new')
  advance(500)
  t.equal(peers.offer(hb('a', 6)), 'updated')
  const seen = peers.peers()[0]?.lastSeen
  advance(500)
  t.equal(peers.offer(hb('a', 6)), 'unchanged', 'the same record read again')
  t.equal(peers.offer(hb('a', 2, { appliedSeq: 0 })), 'stale', 'an older one')
  t.match(peers.peers(), [{ nodeId: 'a', beat: 6, appliedSeq: 60, lastSeen: seen }], 'progress and last-seen time kept')
})

t.test('a later start is a restart, whatever its beat; an earlier start is stale', async t => {
  const { table: peers } = table()
  peers.offer(hb('a', 50))
  t.equal(peers.offer(hb('a', 1, { startedAt: '2026-01-01T00:10:00.000Z' })), 'restarted')
  t.equal(peers.offer(hb('a', 99)), 'stale', 'a heartbeat of the previous run')
  t.match(peers.peers(), [{ beat: 1, startedAt: '2026-01-01T00:10:00.000Z' }])
})

t.test(`a peer silent for ${GONE_AFTER_INTERVALS} intervals is gone, then dropped ${KEEP_GONE_INTERVALS} intervals later`, async t => {
  const { table: peers, advance } = table()
  peers.offer(hb('a', 1))
  peers.offer(hb('b', 1))
  advance(GONE_AFTER_INTERVALS * INTERVAL)
  peers.offer(hb('b', 2))
  t.same(peers.sweep(), [], 'exactly 3 intervals: still alive')
  t.same(peers.peers().map(p => [p.nodeId, p.state]), [['b', 'alive'], ['a', 'alive']])
  advance(1)
  t.same(peers.sweep().map(p => p.nodeId), ['a'], 'a went silent')
  t.same(peers.sweep(), [], 'reported once')
  t.same(peers.peers().map(p => [p.nodeId, p.state]), [['b', 'alive'], ['a', 'gone']])
  t.equal(peers.alive(), 1)
  advance(KEEP_GONE_INTERVALS * INTERVAL - 1)
  t.equal(peers.peers().find(p => p.nodeId === 'a')?.state, 'gone', 'still shown')
  advance(1)
  peers.sweep()
  t.same(peers.peers().map(p => [p.nodeId, p.state]), [['b', 'gone']], 'a dropped, b (heard 3 intervals later) still gone')
  t.equal(peers.offer(hb('a', 2)), 'new', 'a dropped peer heard again is new')
})

t.test('a gone peer heard again is alive again', async t => {
  const { table: peers, advance } = table()
  peers.offer(hb('a', 1))
  advance(10 * INTERVAL)
  peers.sweep()
  t.equal(peers.offer(hb('a', 2)), 'updated')
  t.match(peers.peers(), [{ nodeId: 'a', state: 'alive' }])
  advance(10 * INTERVAL)
  t.same(peers.sweep().map(p => p.nodeId), ['a'], 'and can go silent again')
})

t.test('beyond the cap, new peers are not added; known ones still update, and room comes back when one is dropped', async t => {
  const { table: peers, advance } = table(3)
  for (const id of ['a', 'b', 'c']) t.equal(peers.offer(hb(id, 1)), 'new')
  t.equal(peers.offer(hb('d', 1)), 'full')
  t.equal(peers.offer(hb('a', 2)), 'updated')
  t.equal(peers.peers().length, 3)
  advance((GONE_AFTER_INTERVALS + KEEP_GONE_INTERVALS) * INTERVAL + 1)
  peers.offer(hb('a', 3))
  peers.sweep()
  t.equal(peers.offer(hb('d', 1)), 'new')
  t.same(peers.peers().map(p => p.nodeId).sort(), ['a', 'd'])
})

t.test('a peer was last seen when its record says it was written: a record read long after is gone at once', async t => {
  const { table: peers, now } = table()
  t.equal(peers.offer(hb('old', 1), now() - (GONE_AFTER_INTERVALS + 1) * INTERVAL), 'new')
  t.equal(peers.offer(hb('fresh', 1), now() - INTERVAL), 'new')
  t.same(peers.peers().map(p => [p.nodeId, p.state]), [['fresh', 'alive'], ['old', 'gone']])
  t.equal(peers.offer(hb('ancient', 1), now() - (GONE_AFTER_INTERVALS + KEEP_GONE_INTERVALS + 1) * INTERVAL), 'new')
  t.notOk(peers.peers().some(p => p.nodeId === 'ancient'), 'one older than the stream keeps records is not listed')
})
