/**
 * Where a client watch stands: the sequence it resumes after, and the last
 * change it delivered.
 *
 * The changes of a changeset share one sequence and come one per key, in
 * order (`changeset.index`). So a watch cut off inside a changeset must not
 * resume after that sequence, which would skip the rest of it: the cursor
 * stays just before the sequence until its last change is delivered, and the
 * reconnection gets the whole changeset again. The changes delivered before
 * the cut then come again; they are dropped by their place, since a stream's
 * changes only move forward in (seq, index).
 *
 *   change                                  delivered?                  cursor
 *   seq ≤ cursor                            no (already delivered)      unchanged
 *   (seq, index) ≤ last delivered           no (part of a changeset     unchanged
 *                                           delivered before a cut)
 *   a change of its own                     yes                         seq
 *   the last change of a changeset          yes                         seq
 *   any other change of a changeset         yes                         seq - 1
 *   resync (a key's state, not a change)    yes                         unchanged
 *
 * `seq - 1` is complete: every change below `seq` came before this one. It
 * also covers a watch whose prefix leaves out the last keys of a changeset:
 * the next changeset's first change moves the cursor past it.
 */
import type { ChangeEvent } from '../types.js'

export class WatchCursor {
  #seq: number
  // The place of the last change delivered, [seq, index in its changeset (0 for a change of its own)].
  #last: [number, number] | undefined

  /** A watch that resumes after `since`. */
  constructor (since: number) {
    this.#seq = since
  }

  /** The sequence to resume after (`since`, `Last-Event-ID`): every change up to it has been delivered. */
  get seq (): number {
    return this.#seq
  }

  /** Whether `change` is to be delivered: it is not one delivered already. Moves the cursor when it is. */
  admit (change: ChangeEvent): boolean {
    if (change.op === 'resync') return true
    const index = change.changeset?.index ?? 0
    if (change.seq <= this.#seq) return false
    const last = this.#last
    if (last !== undefined && (change.seq < last[0] || (change.seq === last[0] && index <= last[1]))) return false
    this.#last = [change.seq, index]
    const ends = change.changeset === undefined || index === change.changeset.size - 1
    this.#seq = ends ? change.seq : change.seq - 1
    return true
  }
}
