import t from 'tap'
import { checkChangesets, type ChangesetsResult } from './fixtures/history/changesets.js'
import { checkHistory, formatReport } from './fixtures/history/check.js'
import { checkLinearizable, roleOf } from './fixtures/history/linearizable.js'
import { checkAcknowledged } from './fixtures/history/replicas.js'
import { simulateHistory } from './fixtures/history/simulate.js'
import type { ChangesetTag, History, Operation, ReplicaState, ReplicaVersion, WatchEvent, WatchLog } from './fixtures/history/types.js'
import { checkWatchers } from './fixtures/history/watchers.js'
import { valueKey } from './fixtures/history/values.js'

let nextId = 1

function write (process: string, key: string, ifVersion: number, value: string, [invokedAt, completedAt]: [number, number]): Operation {
  return { id: nextId++, process, key, kind: 'cas', ifVersion, value, invokedAt, completedAt, outcome: 'ok', result: { version: ifVersion + 1 } }
}

function conflict (process: string, key: string, ifVersion: number, value: string, [invokedAt, completedAt]: [number, number]): Operation {
  return { id: nextId++, process, key, kind: 'cas', ifVersion, value, invokedAt, completedAt, outcome: 'fail', error: 'VERSION_CONFLICT' }
}

function timedOut (process: string, key: string, ifVersion: number, value: string, invokedAt: number): Operation {
  return { id: nextId++, process, key, kind: 'cas', ifVersion, value, invokedAt, outcome: 'unknown', error: 'TIMEOUT' }
}

function read (process: string, key: string, version: number, value: string | undefined, [invokedAt, completedAt]: [number, number]): Operation {
  const result = value === undefined ? { version } : { version, value }
  return { id: nextId++, process, key, kind: 'read', invokedAt, completedAt, outcome: 'ok', result }
}

function puts (key: string, versions: number[], prevOf = (v: number) => v - 1): WatchEvent[] {
  return versions.map(version => ({ key, op: 'put', version, prevVersion: prevOf(version), receivedAt: version }))
}

function resync (key: string, version: number): WatchEvent {
  return { key, op: 'resync', version, receivedAt: version }
}

function replicas (keys: Record<string, string[]>, nodes = ['n1', 'n2', 'n3']): ReplicaState[] {
  return nodes.map(node => ({
    node,
    keys: Object.fromEntries(Object.entries(keys).map(([key, values]) => [key, values.map((value, i) => ({ version: i + 1, value, op: 'put' as const }))]))
  }))
}

/**
 * Two keys, four clients, overlapping operations:
 *   a/1  v1 'a' (a read and a conflicting cas overlap it), v2 'b' by a cas that
 *        timed out but took effect, v3 'c', then a timed-out cas that never took
 *        effect, v4 'e'
 *   a/2  v1 'x' and v2 'y' written back to back by two clients
 */
function validHistory (): History {
  const operations: Operation[] = [
    write('c1', 'a/1', 0, 'a', [0, 10]),
    read('c3', 'a/1', 0, undefined, [1, 3]),
    read('c2', 'a/1', 1, 'a', [2, 12]),
    conflict('c4', 'a/1', 0, 'lost-race', [5, 15]),
    timedOut('c3', 'a/1', 1, 'b', 20),
    read('c1', 'a/1', 2, 'b', [30, 35]),
    write('c1', 'a/1', 2, 'c', [40, 45]),
    timedOut('c4', 'a/1', 3, 'never', 50),
    read('c2', 'a/1', 3, 'c', [60, 65]),
    write('c2', 'a/1', 3, 'e', [70, 75]),
    read('c1', 'a/1', 4, 'e', [72, 80]),
    { id: nextId++, process: 'c1', key: 'a/1', kind: 'read', invokedAt: 81, outcome: 'unknown', error: 'TIMEOUT' },
    { id: nextId++, process: 'c2', key: 'a/2', kind: 'cas', ifVersion: 0, value: 'bad', invokedAt: 1, completedAt: 2, outcome: 'fail', error: 'BAD_REQUEST' },
    write('c2', 'a/2', 0, 'x', [3, 8]),
    write('c1', 'a/2', 1, 'y', [9, 14]),
    read('c4', 'a/2', 1, 'x', [4, 13])
  ]
  return {
    operations,
    watchers: [
      { watcher: 'w1', prefix: 'a/', events: [...puts('a/1', [1, 2]), ...puts('a/2', [1]), ...puts('a/1', [3, 4]), ...puts('a/2', [2])] },
      { watcher: 'w2', prefix: 'a/2', events: puts('a/2', [1, 2]) }
    ],
    replicas: replicas({ 'a/1': ['a', 'b', 'c', 'e'], 'a/2': ['x', 'y'] })
  }
}

function withWatcher (history: History, watcher: WatchLog): History {
  return { ...history, watchers: [watcher] }
}

t.test('a valid concurrent history with overlapping operations and unknowns passes every check', async t => {
  const report = checkHistory(validHistory())
  t.ok(report.ok, formatReport(report))
  t.match(report, {
    operations: 16,
    okWrites: 5,
    failedWrites: 2,
    unknownWrites: 2,
    reads: 7,
    lostAcknowledged: 0,
    lostUpdates: 0,
    watcherGaps: 0,
    watcherDuplicates: 0,
    watcherOutOfOrder: 0,
    watcherEndMismatches: 0,
    watcherJumps: 0
  })
  t.same([report.nonLinearizableKeys, report.timedOutKeys, report.divergentKeys, report.details], [[], [], [], []])
  const linear = checkLinearizable(validHistory().operations)
  t.equal(linear.keys, 2)
  t.equal(linear.ops, 14, 'the unknown read and the BAD_REQUEST cas say nothing and are left out')
})

t.test('an unknown write may take effect at any time after its call, or never', async t => {
  const unknown = timedOut('c1', 'k', 0, 'b', 5)
  t.ok(checkLinearizable([unknown, read('c2', 'k', 1, 'b', [10, 12])]).ok, 'it took effect')
  t.ok(checkLinearizable([unknown, read('c2', 'k', 0, undefined, [10, 12]), write('c2', 'k', 0, 'c', [20, 25]), read('c3', 'k', 1, 'c', [30, 31])]).ok,
    'it never did')
  t.ok(checkLinearizable([unknown, read('c2', 'k', 0, undefined, [10, 12]), read('c3', 'k', 1, 'b', [20, 22])]).ok, 'it took effect long after')
  t.notOk(checkLinearizable([read('c2', 'k', 1, 'b', [0, 2]), unknown]).ok, 'not before it was invoked')
  const base = validHistory().operations
  const rejected = base.map(op => op.kind === 'read' && op.result?.value === 'e' ? { ...op, result: { version: 4, value: 'never' } } : op)
  const result = checkLinearizable(rejected)
  t.notOk(result.ok, 'the timed-out write of "never" cannot be version 4 too')
  t.same(result.failures.map(f => [f.key, f.kind]), [['a/1', 'lost-update']])
})

t.test('a lost write: an acknowledged cas missing from a replica', async t => {
  const history = validHistory()
  const n2 = history.replicas[1] as ReplicaState
  n2.keys['a/1'] = (n2.keys['a/1'] ?? []).filter(v => v.version !== 3)
  const report = checkHistory(history)
  t.notOk(report.ok)
  t.equal(report.lostAcknowledged, 1)
  t.same(report.divergentKeys, [], 'the replicas still agree on the newest version')
  t.equal(report.details.length, 1)
  t.match(report.details[0], /a\/1: acknowledged version 3 lost on n2 \(missing\)/)

  const behind = validHistory()
  const n3 = behind.replicas[2] as ReplicaState
  n3.keys['a/2'] = (n3.keys['a/2'] ?? []).slice(0, 1)
  const result = checkAcknowledged(behind.operations, behind.replicas)
  t.equal(result.lost.length, 1)
  t.match(result.lost, [{ key: 'a/2', version: 2, node: 'n3', reason: 'behind' }])
  t.match(result.divergent, [{ key: 'a/2', latest: [{ node: 'n1', version: 2 }, { node: 'n2', version: 2 }, { node: 'n3', version: 1 }] }])
})

t.test('an acknowledged version holding another value in a replica is lost; one pruned by retention is not', async t => {
  const history = validHistory()
  for (const replica of history.replicas) {
    const v1 = replica.keys['a/1']?.[0]
    if (v1 !== undefined) v1.value = 'z'
  }
  const { lost, lostWrites } = checkAcknowledged(history.operations, history.replicas)
  t.equal(lostWrites, 1)
  t.equal(lost.length, 3)
  t.match(lost, [
    { key: 'a/1', version: 1, node: 'n1', reason: 'overwritten' },
    { key: 'a/1', version: 1, node: 'n2', reason: 'overwritten' },
    { key: 'a/1', version: 1, node: 'n3', reason: 'overwritten' }
  ])
  const pruned = validHistory()
  for (const replica of pruned.replicas) replica.keys['a/1'] = replica.keys['a/1']?.slice(-2) ?? []
  t.ok(checkAcknowledged(pruned.operations, pruned.replicas, 3).ok, 'acknowledged version 1 is beyond a retention of 3')
  t.match(checkAcknowledged(pruned.operations, pruned.replicas, 4), { lostWrites: 1, lost: [{ version: 1, reason: 'missing' }] }, 'but within a retention of 4')
})

t.test('a stale read: invoked after a cas completed, it returns the older version', async t => {
  const w = write('c1', 'k', 0, 'a', [0, 5])
  const stale = read('c2', 'k', 0, undefined, [6, 8])
  const result = checkLinearizable([w, stale])
  t.notOk(result.ok)
  t.equal(result.failures.length, 1)
  t.match(result.failures[0], { key: 'k', kind: 'stale-read', reason: new RegExp(`read #${stale.id} returned version 0`) })
  t.same(result.failures[0]?.ops, [w, stale], 'the witness is the write and the read')
  t.ok(checkLinearizable([w, { ...stale, invokedAt: 4 }]).ok, 'the same read overlapping the cas may see either version')

  const fresh = read('c3', 'k', 1, 'a', [1, 3])
  const older = read('c4', 'k', 0, undefined, [4, 9])
  const { failures } = checkLinearizable([w, fresh, older])
  t.same(failures.map(f => [f.kind, f.ops]), [['stale-read', [fresh, older]]], 'no read goes back after another read saw the newer version')
  t.notOk(checkLinearizable([read('c5', 'k', 0, 'ghost', [0, 1])]).ok, 'nor sees a value nobody wrote')
})

t.test('a lost update: two cas succeed on the same version', async t => {
  const history: History = {
    operations: [write('c1', 'k', 0, 'a', [0, 5]), write('c2', 'k', 0, 'b', [10, 15]), read('c3', 'k', 1, 'b', [20, 25])],
    watchers: [],
    replicas: replicas({ k: ['b'] })
  }
  const report = checkHistory(history)
  t.notOk(report.ok)
  t.same(report.nonLinearizableKeys, ['k'])
  t.equal(report.lostUpdates, 1)
  t.equal(report.lostAcknowledged, 1, '"a" is not version 1 in any replica')
  t.match(report.details[0], /both succeeded on version 0/)
})

t.test('a write acknowledged with a version other than ifVersion + 1 is not linearizable', async t => {
  const bad = { ...write('c1', 'k', 0, 'a', [0, 5]), result: { version: 2 } }
  const result = checkLinearizable([bad, read('c2', 'k', 2, 'a', [6, 7])])
  t.equal(result.failures.length, 1)
  t.match(result.failures[0], { key: 'k', kind: 'version-step', reason: /on version 0 was acknowledged as version 2/ })
  const report = checkHistory({ operations: [bad], watchers: [], replicas: replicas({ k: ['a', 'a'] }) })
  t.match(report, { ok: false, nonLinearizableKeys: ['k'], lostUpdates: 0 }, 'not a lost update')
})

t.test('a version conflict needs a moment when the version was not ifVersion', async t => {
  const w = write('c1', 'k', 0, 'a', [0, 5])
  t.ok(checkLinearizable([w, conflict('c2', 'k', 0, 'b', [4, 6])]).ok, 'it may have come after the write')
  t.ok(checkLinearizable([w, conflict('c2', 'k', 1, 'b', [1, 2])]).ok, 'before the write the version was 0, not 1')
  const late = conflict('c2', 'k', 1, 'b', [6, 7])
  const { failures } = checkLinearizable([w, late])
  t.same(failures.map(f => [f.kind, f.ops]), [['not-linearizable', [w, late]]], 'after the write the version was 1 throughout')
  t.match(failures[0]?.reason, new RegExp(`1 operations taken, at version 1 = "a", where #${late.id} .* cannot take effect before it returns`))
})

t.test('a duplicated watcher event is counted as a duplicate, not a gap', async t => {
  const events = puts('a/1', [1, 2, 2, 3, 4])
  const report = checkHistory(withWatcher(validHistory(), { watcher: 'w', prefix: 'a/1', events }))
  t.notOk(report.ok)
  t.equal(report.watcherDuplicates, 1)
  t.equal(report.watcherGaps, 0)
  t.equal(report.watcherEndMismatches, 0)
  const replayed = checkWatchers([{ watcher: 'w', prefix: 'a/1', events: puts('a/1', [1, 2, 3, 4, 2]) }], new Map([['a/1', 4]]))
  t.match(replayed, { duplicates: 1, outOfOrder: 0, gaps: 0 })
  const reordered = checkWatchers([{ watcher: 'w', prefix: 'a/1', events: puts('a/1', [2, 1, 3, 4], v => v === 2 ? 1 : v - 1) }], new Map([['a/1', 4]]))
  t.match(reordered, { duplicates: 0, outOfOrder: 1 })
})

t.test('a watcher gap: prevVersion skips what the watcher last saw', async t => {
  const finals = new Map([['a/1', 4]])
  const skipped = checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [1, 3, 4]) }], finals)
  t.match(skipped, { gaps: 1, duplicates: 0, endMismatches: 0 })
  t.same(skipped.problems, [{ watcher: 'w', key: 'a/1', kind: 'gap', detail: 'put v3 (prev 2) after version 1' }])
  const jumped = checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [1, 3, 4], v => v === 3 ? 1 : v - 1) }], finals)
  t.match(jumped, { ok: true, gaps: 0, jumps: 1 }, 'an explicit jump (prevVersion the version last seen) misses nothing the replica had')
})

t.test('a watcher started before the first write must see a key from version 1, unless told of a jump or a resync', async t => {
  const finals = new Map([['a/1', 4]])
  // Accepted before: the first event was taken as wherever the watcher started.
  const missedFirst = checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [3, 4]) }], finals)
  t.match(missedFirst, { ok: false, gaps: 1 }, 'a first event following version 2 hides versions 1 and 2')
  t.same(missedFirst.problems, [{ watcher: 'w', key: 'a/1', kind: 'gap', detail: 'put v3 (prev 2) after version 0' }])
  const report = checkHistory(withWatcher(validHistory(), { watcher: 'w', prefix: 'a/', events: [...puts('a/1', [2, 3, 4]), ...puts('a/2', [1, 2])] }))
  t.match(report, { ok: false, watcherGaps: 1 }, 'the history check refuses it too')
  const jumped = checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [3, 4], v => v === 3 ? 0 : v - 1) }], finals)
  t.match(jumped, { ok: true, jumps: 1 }, 'an explicit jump from version 0 misses nothing the replica had')
  t.ok(checkWatchers([{ watcher: 'w', prefix: 'a/', events: [resync('a/1', 3), ...puts('a/1', [4])] }], finals).ok, 'a resync may come first')
  t.match(checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [1, 2, 3, 4]) }], finals), { ok: true, jumps: 0 }, 'from version 1 on is complete')
})

t.test('the same gap is allowed right after a resync of the key', async t => {
  const finals = new Map([['a/1', 4]])
  const cases: Array<[string, WatchEvent[]]> = [
    ['resync carrying the new state', [...puts('a/1', [1]), resync('a/1', 3), ...puts('a/1', [4])]],
    ['next event anywhere above', [...puts('a/1', [1]), resync('a/1', 1), ...puts('a/1', [3, 4])]],
    ['resync sent again after a reconnect', [...puts('a/1', [1]), resync('a/1', 3), resync('a/1', 3), ...puts('a/1', [4])]]
  ]
  for (const [name, events] of cases) {
    const result = checkWatchers([{ watcher: 'w', prefix: 'a/', events }], finals)
    t.ok(result.ok, `${name}: ${JSON.stringify(result.problems)}`)
  }
  const afterwards = checkWatchers([{ watcher: 'w', prefix: 'a/', events: [...puts('a/1', [1]), resync('a/1', 1), ...puts('a/1', [2, 4])] }], finals)
  t.equal(afterwards.gaps, 1, 'only the first event after the resync may jump')
})

t.test('a watcher that ends behind the final version', async t => {
  const history = withWatcher(validHistory(), { watcher: 'w', prefix: 'a/', events: [...puts('a/1', [1, 2, 3]), ...puts('a/2', [1, 2])] })
  const report = checkHistory(history)
  t.notOk(report.ok)
  t.equal(report.watcherEndMismatches, 1)
  t.same(report.details, ['a/1: watcher w end: ends at version 3, the replicas at 4'])
  const unseen = checkWatchers([{ watcher: 'w', prefix: 'a/', events: puts('a/1', [1, 2, 3, 4]) }], validHistory().replicas)
  t.same(unseen.problems, [{ watcher: 'w', key: 'a/2', kind: 'end', detail: 'ends at version 0, the replicas at 2' }], 'a key never seen at all is behind too')
  const foreign = checkWatchers([{ watcher: 'w', prefix: 'a/2', events: [...puts('a/2', [1, 2]), ...puts('a/1', [1])] }], validHistory().replicas)
  t.match(foreign, { foreign: 1, endMismatches: 0 })
})

t.test('a history too costly to search is reported undecided instead of hanging', async t => {
  // Two timed-out writes per version for 24 versions: 2^24 ways, none of which explains the read.
  const ops: Operation[] = []
  for (let version = 0; version < 24; version++) {
    ops.push(timedOut('a', 'hard', version, `${version}a`, 0), timedOut('b', 'hard', version, `${version}b`, 0))
  }
  ops.push(read('c', 'hard', 24, 'written by nobody', [100, 101]), write('d', 'easy', 0, 'x', [0, 1]))
  const result = checkLinearizable(ops)
  t.match(result, { ok: false, keys: 2 })
  t.same([result.failures, result.timedOut], [[], ['hard']], 'the easy key is decided, the hard one is not')
  const smaller = checkLinearizable(ops.slice(0, 8).concat(read('c', 'hard', 4, 'written by nobody', [100, 101])))
  t.same([smaller.failures.map(f => f.key), smaller.timedOut], [['hard'], []], 'the same shape, smaller, is decided')
  const report = checkHistory({ operations: ops, watchers: [], replicas: replicas({ easy: ['x'] }) }, { maxStepsPerKey: 1000 })
  t.same([report.ok, report.timedOutKeys, report.nonLinearizableKeys], [false, ['hard'], []])
  t.match(formatReport(report), /1 undecided/)
})

t.test('malformed records are programmer errors', async t => {
  t.throws(() => checkLinearizable([{ ...write('c1', 'k', 0, 'a', [0, 1]), ifVersion: undefined }]), TypeError)
  t.throws(() => checkLinearizable([{ ...read('c1', 'k', 0, undefined, [0, 1]), result: undefined }]), TypeError)
})

t.test('a simulated 2,000-operation history over 10 keys and 16 clients passes', async t => {
  const history = simulateHistory({ operations: 2000, clients: 16, keys: 10, seed: 7 })
  const report = checkHistory(history)
  t.ok(report.ok, formatReport(report))
  t.equal(report.operations, 2000)
  t.ok(report.unknownWrites > 0 && report.failedWrites > 0, 'with unknown and conflicting writes')
  t.match(formatReport(report), /^history OK: 2000 operations \(writes: \d+ ok/)
})

t.test('every stale read injected into simulated histories is caught', async t => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { operations } = simulateHistory({ seed })
    const writes = operations.filter(op => op.kind === 'cas' && op.outcome === 'ok')
    const target = operations.find(op => op.kind === 'read' && op.outcome === 'ok' && (op.result?.version ?? 0) > 0 &&
      writes.some(w => w.key === op.key && w.result?.version === op.result?.version && (w.completedAt as number) < op.invokedAt))
    if (target === undefined) continue
    const previous = writes.find(w => w.key === target.key && w.result?.version === (target.result?.version as number) - 1)
    const stale = { ...target, result: previous === undefined ? { version: 0 } : { version: previous.result?.version as number, value: previous.value } }
    const result = checkLinearizable(operations.map(op => op === target ? stale : op))
    t.same(result.failures.map(f => [f.key, f.kind]), [[target.key, 'stale-read']], `seed ${seed}: read #${target.id}`)
  }
})

/** Tries every order of every subset that keeps all completed operations: the definition, for tiny histories. */
function linearizableByEnumeration (ops: Operation[]): boolean {
  const kept = ops.filter(op => roleOf(op) !== undefined)
  const used = kept.map(() => false)
  const mustPrecede = (a: Operation, b: Operation): boolean => a.outcome !== 'unknown' && (a.completedAt as number) < b.invokedAt
  const extend = (version: number, value: string): boolean => {
    if (kept.every((op, i) => used[i] === true || op.outcome === 'unknown')) return true
    return kept.some((op, i) => {
      if (used[i] === true || kept.some((other, j) => used[j] !== true && mustPrecede(other, op))) return false
      const role = roleOf(op)
      let next: [number, string] = [version, value]
      if (role === 'read') {
        if (op.result?.version !== version || valueKey(op.result.value) !== value) return false
      } else if (role === 'conflict') {
        if (op.ifVersion === version) return false
      } else {
        if (op.ifVersion !== version || (role === 'write' && op.result?.version !== version + 1)) return false
        next = [version + 1, valueKey(op.value)]
      }
      used[i] = true
      const found = extend(...next)
      used[i] = false
      return found
    })
  }
  return extend(0, valueKey(undefined))
}

t.test('the search agrees with trying every order on small histories, random and simulated then tampered with', async t => {
  let seed = 42
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return Math.floor((seed / 2 ** 32) * n)
  }
  const randomOps = (): Operation[] => Array.from({ length: 3 + random(5) }, (_, i) => {
    const span: [number, number] = [random(10), 0]
    span[1] = span[0] + random(5)
    const version = random(3)
    const value = `v${random(3)}`
    switch (random(5)) {
      case 0: return read(`p${i}`, 'k', version, version === 0 ? undefined : value, span)
      case 1: return conflict(`p${i}`, 'k', version, value, span)
      case 2: return timedOut(`p${i}`, 'k', version, value, span[0])
      default: return write(`p${i}`, 'k', version, value, span)
    }
  })
  // A correct history with one thing changed: a version seen, a call or return time, a conflict turned success.
  const tamperedOps = (round: number): Operation[] => {
    const ops = simulateHistory({ seed: round, operations: 5 + random(5), keys: 1, clients: 2 + random(4), unknownRate: 0.3, replicas: 1 }).operations
    const op = ops[random(ops.length)] as Operation
    switch (random(4)) {
      case 0:
        if (op.kind === 'read' && op.result !== undefined && op.result.version > 0) op.result = { ...op.result, version: op.result.version - 1 }
        break
      case 1:
        op.invokedAt = Math.max(0, op.invokedAt - random(10))
        break
      case 2:
        if (op.completedAt !== undefined) op.completedAt = Math.max(op.invokedAt, op.completedAt - random(10))
        break
      default:
        if (op.outcome === 'fail') Object.assign(op, { outcome: 'ok', result: { version: (op.ifVersion as number) + 1 } })
    }
    return ops
  }
  const counts = { linearizable: 0, not: 0 }
  let disagreements = 0
  for (let round = 0; round < 4000; round++) {
    const ops = round % 2 === 0 ? randomOps() : tamperedOps(round)
    const expected = linearizableByEnumeration(ops)
    counts[expected ? 'linearizable' : 'not']++
    if (checkLinearizable(ops).ok !== expected) {
      disagreements++
      t.fail(`disagrees (expected ${String(expected)}) on ${JSON.stringify(ops)}`)
    }
  }
  t.equal(disagreements, 0)
  t.ok(counts.linearizable > 1000 && counts.not > 1000, `${counts.linearizable} linearizable, ${counts.not} not`)
})

/** The shares of one changeset: each key's cas, with the changeset's outcome (a conflict names its keys). */
function commit (group: number, members: Array<[string, number, string]>, outcome: Operation['outcome'], [invokedAt, completedAt]: [number, number], conflicts: string[] = []): Operation[] {
  return members.map(([key, ifVersion, value], index) => {
    const share: Operation = { id: nextId++, process: `cs${group}`, key, kind: 'cas', ifVersion, value, invokedAt, outcome, changeset: { group, index, size: members.length } }
    if (outcome === 'ok') return { ...share, completedAt, result: { version: ifVersion + 1 } }
    if (outcome === 'fail') return { ...share, completedAt, error: conflicts.includes(key) ? 'VERSION_CONFLICT' : 'CHANGESET_REFUSED' }
    return { ...share, error: 'TIMEOUT' }
  })
}

/** The events of one changeset at `seq`: one per key, in order. */
function delivered (id: string, seq: number, changes: Array<[string, number, string]>): WatchEvent[] {
  return changes.map(([key, version, value], index) => ({ key, op: 'put', version, prevVersion: version - 1, value, seq, receivedAt: seq, changeset: { id, index, size: changes.length } }))
}

/**
 * x/a v1 'a1' written alone (seq 1), then one changeset (seq 2) of x/a v2 'a2'
 * and x/b v1 'b1'; every replica holds both, tagged; one watcher saw it all.
 */
function changesetHistory (outcome: Operation['outcome'] = 'ok'): History {
  const tag = (index: number): { changeset: ChangesetTag } => ({ changeset: { id: 'cs1', index, size: 2 } })
  return {
    operations: [write('c1', 'x/a', 0, 'a1', [0, 5]), ...commit(1, [['x/a', 1, 'a2'], ['x/b', 0, 'b1']], outcome, [10, 20])],
    watchers: [{ watcher: 'w1', prefix: 'x/', events: [{ key: 'x/a', op: 'put', version: 1, prevVersion: 0, value: 'a1', seq: 1, receivedAt: 1 }, ...delivered('cs1', 2, [['x/a', 2, 'a2'], ['x/b', 1, 'b1']])] }],
    replicas: ['n1', 'n2', 'n3'].map(node => ({
      node,
      keys: { 'x/a': [{ version: 1, value: 'a1', op: 'put' }, { version: 2, value: 'a2', op: 'put', ...tag(0) }], 'x/b': [{ version: 1, value: 'b1', op: 'put', ...tag(1) }] }
    }))
  }
}

function kinds (result: ChangesetsResult): Array<[string, string]> {
  return result.problems.map(p => [p.where, p.kind])
}

t.test('a changeset held whole by every replica and delivered whole to every watcher passes', async t => {
  const report = checkHistory(changesetHistory())
  t.ok(report.ok, formatReport(report))
  t.match(report, { changesets: 1, changesetsInReplicas: 0, changesetsInWatchers: 0 })
  t.match(formatReport(report), /changesets: 1 recorded; 0 problems in replicas, 0 in watchers/)
  t.match(checkChangesets(changesetHistory().operations, changesetHistory().replicas, changesetHistory().watchers), { ok: true, recorded: 1, held: 1, delivered: 1 })
})

t.test('a replica holding half a changeset is caught, from the recorded changeset or from the other replicas\' tags', async t => {
  const history = changesetHistory()
  const n2 = history.replicas[1] as ReplicaState
  delete n2.keys['x/b']
  const report = checkHistory(history)
  t.notOk(report.ok)
  t.ok(report.changesetsInReplicas >= 1)
  t.ok(report.details.some(d => /^changeset #1: partial in n2: holds x\/a v2 but not x\/b v1$/.test(d)), report.details.join('\n'))
  t.same(kinds(checkChangesets([], history.replicas, [])), [['n2', 'partial']], 'the other replicas\' tags tell, with no operation recorded')

  const everywhere = changesetHistory('unknown')
  for (const replica of everywhere.replicas) delete replica.keys['x/b']
  everywhere.watchers = []
  const halves = checkHistory(everywhere)
  t.match(halves, { ok: false, lostAcknowledged: 0, changesetsInReplicas: 3 }, 'every replica holding the same half of a changeset of unknown outcome: only the record of it tells')
  t.same(kinds(checkChangesets([], everywhere.replicas, [])), [], 'which the tags alone cannot')

  const untagged = changesetHistory()
  const version = (untagged.replicas[2] as ReplicaState).keys['x/b']?.[0] as ReplicaVersion
  delete version.changeset
  t.same(kinds(checkChangesets(untagged.operations, untagged.replicas, [])), [['n3', 'split'], ['n3', 'split']], 'a version held as a write of its own is not the changeset\'s')
})

t.test('a changeset refused to its writer must be in no replica', async t => {
  const history = changesetHistory('fail')
  history.operations = history.operations.map(op => op.changeset?.index === 0 ? { ...op, error: 'VERSION_CONFLICT', ifVersion: 0, value: 'a2' } : op)
  const result = checkChangesets(history.operations, history.replicas, [])
  t.same(kinds(result).filter(([, kind]) => kind === 'refused-applied'), [['n1', 'refused-applied'], ['n2', 'refused-applied'], ['n3', 'refused-applied']])
  const none = changesetHistory('fail')
  for (const replica of none.replicas) {
    replica.keys['x/a'] = replica.keys['x/a']?.slice(0, 1) ?? []
    delete replica.keys['x/b']
  }
  t.same(kinds(checkChangesets(none.operations, none.replicas, [])), [], 'held by none: fine')
})

t.test('a version no longer retained counts either way', async t => {
  const history = changesetHistory()
  const n1 = history.replicas[0] as ReplicaState
  n1.keys['x/b'] = Array.from({ length: 10 }, (_, i) => ({ version: i + 2, value: `b${i + 2}`, op: 'put' as const }))
  t.same(kinds(checkChangesets(history.operations, history.replicas, [])), [], 'x/b v1 is 10 versions behind: beyond a retention of 10')
  t.same(kinds(checkChangesets(history.operations, history.replicas, [], 11)), [['n1', 'partial'], ['n1', 'partial']], 'but within one of 11')
})

t.test('a watcher that sees part of a changeset without the rest, or its changes out of order, is caught', async t => {
  const { operations, replicas } = changesetHistory()
  const a1: WatchEvent = { key: 'x/a', op: 'put', version: 1, prevVersion: 0, value: 'a1', seq: 1, receivedAt: 1 }
  const [a2, b1] = delivered('cs1', 2, [['x/a', 2, 'a2'], ['x/b', 1, 'b1']]) as [WatchEvent, WatchEvent]
  const other: WatchEvent = { key: 'x/c', op: 'put', version: 1, prevVersion: 0, value: 'c1', seq: 3, receivedAt: 3 }
  const check = (events: WatchEvent[], prefix = 'x/'): ChangesetsResult => checkChangesets(operations, replicas, [{ watcher: 'w', prefix, events }])
  const cases: Array<[string, WatchEvent[], Array<[string, string]>]> = [
    ['the stream ends inside it', [a1, a2], [['w', 'partial']]],
    ['another change comes between', [a1, a2, other, b1], [['w', 'partial'], ['w', 'partial']]],
    ['its changes at different sequences', [a1, a2, { ...b1, seq: 3 }], [['w', 'interleaved']]],
    ['its changes in the wrong order', [a1, b1, a2], [['w', 'partial'], ['w', 'partial']]],
    ['its changes delivered as writes of their own', [a1, { ...a2, changeset: undefined }, { ...b1, changeset: undefined }], [['w', 'split'], ['w', 'split']]]
  ]
  for (const [what, events, expected] of cases) {
    const result = check(events.map(e => { const { changeset, ...rest } = e; return changeset === undefined ? rest : e }))
    t.same(kinds(result), expected, what)
  }
  t.match(check([a1, a2]).problems[0]?.detail, /saw changes 0 of 2 at seq 2, without 1, then the end of the stream/)
  const report = checkHistory({ operations, replicas, watchers: [{ watcher: 'w', prefix: 'x/', events: [a1, a2, other, b1] }] })
  t.match(report, { ok: false, changesetsInWatchers: 2 }, 'the history check refuses it too')
  t.same(kinds(check([a1, a2, b1])), [], 'the whole changeset, in order, at one sequence')
  t.same(kinds(check([a1, a2], 'x/a')), [], 'a watcher of x/a is not due x/b')
  t.same(kinds(check([{ key: 'x/b', op: 'resync', version: 1, value: 'b1', receivedAt: 0 }, a1, a2])), [], 'nor the change of a key it was resynced to')
  t.same(kinds(checkChangesets([], replicas, [{ watcher: 'w', prefix: 'x/', events: [a1, a2] }])), [['w', 'partial']], 'from the tags alone too')
})

t.test('a simulated history with changesets of two keys passes; a version or an event of one taken out is caught', async t => {
  for (const seed of [3, 4, 5]) {
    const history = simulateHistory({ operations: 1500, keys: 6, changesetRate: 0.3, seed })
    const report = checkHistory(history)
    t.ok(report.ok, `seed ${seed}: ${formatReport(report)}`)
    const applied = history.operations.filter(op => op.changeset?.index === 1 && op.outcome === 'ok')
    t.ok(report.changesets > 50 && applied.length >= 5, `seed ${seed}: ${report.changesets} changesets, ${applied.length} acknowledged`)
    // The newest acknowledged changeset: its versions are retained everywhere.
    const target = applied.at(-1) as Operation
    const version = (target.ifVersion as number) + 1
    const dropped = structuredClone(history)
    const n2 = dropped.replicas[1] as ReplicaState
    n2.keys[target.key] = (n2.keys[target.key] ?? []).filter(v => v.version !== version)
    t.ok(kinds(checkChangesets(dropped.operations, dropped.replicas, [])).some(([where, kind]) => where === 'n2' && kind === 'partial'), `seed ${seed}: ${target.key} v${version} taken out of n2`)
    const cut = structuredClone(history)
    const w1 = cut.watchers[0] as WatchLog
    w1.events = w1.events.filter(e => !(e.key === target.key && e.version === version))
    t.ok(kinds(checkChangesets(cut.operations, cut.replicas, cut.watchers)).some(([where, kind]) => where === 'w1' && kind === 'partial'), `seed ${seed}: its event taken out of w1`)
  }
})
