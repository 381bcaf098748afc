import t from 'tap'
import type { WatchLog } from '../fixtures/history/types.js'
import { failures } from '../fixtures/faults/effects.js'
import { daemonStop, holdUntilWrites } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'
import { standardExpectations } from '../fixtures/faults/summary.js'

// Far more than the 10 versions per key kept: the stopped daemon comes back past the retention of every key.
const WRITES_WHILE_STOPPED = 1_000

/** Resync events, and events whose prevVersion is the version last seen but that skip versions. */
function resyncsAndJumps (log: WatchLog): number {
  const last = new Map<string, number>()
  let count = 0
  for (const e of log.events) {
    const seen = last.get(e.key) ?? 0
    if (e.op === 'resync' || (e.prevVersion === seen && e.version > seen + 1)) count++
    last.set(e.key, Math.max(seen, e.version))
  }
  return count
}

t.test('a daemon stopped while 1,000 writes land through the others, then started: it catches up and its watcher resumes or resyncs', async t => {
  await runScenario(t, {
    name: 'daemon-stop',
    setup: oneNatsServer,
    faults: () => [daemonStop(0, holdUntilWrites(WRITES_WHILE_STOPPED, 0))],
    effect: { what: 'operations of the stopped daemon\'s clients failed', count: failures() },
    expect: (t, run) => {
      standardExpectations(t, run)
      const { watchers } = run.history
      t.ok(resyncsAndJumps(watchers[0]!) > 0, 'the stopped daemon\'s watcher learns of the versions it can no longer get, by resync or explicit jump')
    }
  })
})
