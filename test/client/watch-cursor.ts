/**
 * The client watch's cursor, table by table: which changes it delivers and
 * where a reconnection resumes, through changesets cut off anywhere.
 */
import t from 'tap'
import { WatchCursor } from '../../lib/client/watch-cursor.js'
import type { ChangeEvent } from '../../lib/types.js'

const meta = { updatedAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', op: 'put' as const }

/** `5` is a change of its own at seq 5; `[5, 1, 3]` the change at index 1 of a changeset of 3 at seq 5; `'r5'` a resync at 5. */
type Step = number | [number, number, number] | `r${number}`

function change (step: Step): ChangeEvent {
  if (typeof step === 'string') return { seq: Number(step.slice(1)), key: 'k', version: 1, prevVersion: 0, op: 'resync', patch: [], meta }
  const [seq, index, size] = typeof step === 'number' ? [step] : step
  return {
    seq,
    key: `k${index ?? ''}`,
    version: 1,
    prevVersion: 0,
    op: 'put',
    patch: [],
    meta,
    ...(index !== undefined && size !== undefined ? { changeset: { id: `cs${seq}`, index, size } } : {})
  }
}

/** Feeds `steps` to a cursor from `since`: which were delivered, and the cursor after each. */
function run (since: number, steps: Step[]): Array<[boolean, number]> {
  const cursor = new WatchCursor(since)
  return steps.map(step => [cursor.admit(change(step)), cursor.seq])
}

const Y = true
const N = false

t.test('changes of their own move the cursor to their seq; one at or below it is dropped', async t => {
  t.same(run(0, [1, 2, 2, 1, 4]), [[Y, 1], [Y, 2], [N, 2], [N, 2], [Y, 4]])
  t.same(run(10, [9, 10, 11]), [[N, 10], [N, 10], [Y, 11]], 'a replay from since starts after it')
})

t.test('inside a changeset the cursor stays before its seq; its last change moves it to the seq', async t => {
  t.same(run(4, [[5, 0, 3], [5, 1, 3], [5, 2, 3], 6]), [[Y, 4], [Y, 4], [Y, 5], [Y, 6]])
})

t.test('a changeset replayed after a cut: the changes delivered before the cut are dropped, the rest delivered', async t => {
  // Cut after index 0: the reconnection resumes from 4 and gets all of seq 5 again.
  t.same(run(4, [[5, 0, 3], /* cut */ [5, 0, 3], [5, 1, 3], [5, 2, 3]]), [[Y, 4], [N, 4], [Y, 4], [Y, 5]])
  // Cut after index 1, then again after a replayed index 0: still each change once.
  t.same(run(4, [[5, 0, 3], [5, 1, 3], /* cut */ [5, 0, 3], /* cut */ [5, 0, 3], [5, 1, 3], [5, 2, 3], 6]),
    [[Y, 4], [Y, 4], [N, 4], [N, 4], [N, 4], [Y, 5], [Y, 6]])
  // Cut after the whole changeset: the reconnection starts after it.
  t.same(run(4, [[5, 0, 2], [5, 1, 2], /* cut */ 6]), [[Y, 4], [Y, 5], [Y, 6]])
})

t.test('a prefix that leaves out the last changes of a changeset: the next changeset\'s first change moves past it', async t => {
  // Seq 5 has 4 changes, of which the prefix takes indexes 0 and 2; seq 7 has 2, of which it takes index 0.
  t.same(run(4, [[5, 0, 4], [5, 2, 4], [7, 0, 2], 8]), [[Y, 4], [Y, 4], [Y, 6], [Y, 8]])
  // Cut after index 2 of seq 5: the replay of seq 5 delivers nothing new.
  t.same(run(4, [[5, 0, 4], [5, 2, 4], /* cut */ [5, 0, 4], [5, 2, 4], [7, 0, 2]]), [[Y, 4], [Y, 4], [N, 4], [N, 4], [Y, 6]])
  // The prefix takes index 1 only, not the first.
  t.same(run(4, [[5, 1, 3], /* cut */ [5, 1, 3], 6]), [[Y, 4], [N, 4], [Y, 6]])
})

t.test('a resync is always delivered and never moves the cursor', async t => {
  t.same(run(4, ['r9', [5, 0, 2], 'r9', [5, 1, 2], 'r3']), [[Y, 4], [Y, 4], [Y, 4], [Y, 5], [Y, 5]])
})
