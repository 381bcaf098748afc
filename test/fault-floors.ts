import t from 'tap'
import { disconnectedSamples, failures, type StatusSample } from './fixtures/faults/effects.js'
import type { ScenarioRun } from './fixtures/faults/scenario.js'
import { floors } from './fixtures/faults/summary.js'
import type { FaultRecord } from './fixtures/faults/unavailability.js'
import type { Operation } from './fixtures/history/types.js'

let nextId = 1

function op (process: string, kind: Operation['kind'], [invokedAt, completedAt]: [number, number | undefined], outcome: Operation['outcome'] = 'ok', error?: string): Operation {
  return {
    id: nextId++,
    process,
    key: 'svc/0/db',
    kind,
    ...(kind === 'cas' ? { ifVersion: 0, value: { token: `t${nextId}` } } : {}),
    invokedAt,
    ...(completedAt !== undefined ? { completedAt } : {}),
    outcome,
    ...(error !== undefined ? { error } : {})
  }
}

// Daemon d0 (workers d0w0, d0w1) affected from 1,000 to 5,000 ms; d1's workers are not.
const fault: FaultRecord = { kind: 'daemon-kill', daemons: [0], affected: [new Set(['d0w0', 'd0w1'])], injectedAt: 1_000, healedAt: 5_000 }

function run (operations: Operation[], { statuses = [], faults = [fault], counts = [1] }: { statuses?: StatusSample[], faults?: FaultRecord[], counts?: number[] } = {}): ScenarioRun {
  return {
    name: 'hand-made',
    history: { operations, watchers: [], replicas: [] },
    report: {} as ScenarioRun['report'],
    reads: {} as ScenarioRun['reads'],
    faults,
    effect: { what: 'operations failed', counts },
    statuses,
    unavailability: new Map(),
    progress: [1, 1],
    watcherErrors: [],
    durationMs: 10_000
  }
}

t.test('a fault\'s effect counts only failures caused by it: in its window, by the affected daemon\'s clients', async t => {
  const unaffected = run([
    op('d0w0', 'cas', [100, 200], 'unknown', 'UNAVAILABLE'), // before the fault
    op('d0w0', 'cas', [6_000, 6_100], 'unknown', 'UNAVAILABLE'), // after the heal
    op('d1w0', 'cas', [2_000, 2_100], 'unknown', 'UNAVAILABLE'), // another daemon's client
    op('d0w1', 'cas', [2_000, 2_100], 'fail', 'VERSION_CONFLICT'), // the workload's own race
    op('d0w1', 'read', [2_000, 2_100]) // fine
  ])
  t.equal(failures()(unaffected, fault), 0, 'a run where the fault touched no client shows no effect')
  const hit = run([
    op('d0w0', 'read', [900, 1_200], 'fail', 'UNAVAILABLE'), // running at the injection
    op('d0w1', 'cas', [4_000, undefined], 'unknown', 'TIMEOUT'),
    op('d0w1', 'cas', [4_500, 4_600], 'fail', 'LOG_DIVERGED'),
    op('d0w0', 'cas', [4_800, 7_000]) // stalled through the heal
  ])
  t.equal(failures()(hit, fault), 3)
  t.equal(failures({ kinds: ['cas'] })(hit, fault), 2)
  t.equal(failures({ kinds: ['cas'], outcome: 'unknown', codes: ['TIMEOUT'] })(hit, fault), 1)
  t.equal(failures({ codes: ['LOG_DIVERGED'] })(hit, fault), 1)
  t.equal(failures({ kinds: ['cas'], stallMs: 1_000 })(hit, fault), 3, 'a write of 2.2 s stalled')
})

t.test('status polls count when the affected daemon said it was disconnected during the fault', async t => {
  const polls: StatusSample[] = [
    { at: 500, daemon: 0, connected: false }, // before
    { at: 2_000, daemon: 1, connected: false }, // another daemon
    { at: 2_000, daemon: 0 }, // no answer
    { at: 2_500, daemon: 0, connected: true }
  ]
  t.equal(disconnectedSamples(run([], { statuses: polls }), fault), 0)
  t.equal(disconnectedSamples(run([], { statuses: [...polls, { at: 3_000, daemon: 0, connected: false }] }), fault), 1)
})

t.test('a run with no fault, too few operations or a fault without effect does not clear its floors', async t => {
  const operations = Array.from({ length: 10 }, (_, i) => op('d0w0', 'read', [i, i + 1]))
  const failed = (r: ScenarioRun, min: number): string[] => floors(r, min).filter(f => !f.ok).map(f => f.name)
  t.same(failed(run(operations), 10), [], 'faults, enough operations, an effect for each fault')
  t.same(failed(run(operations, { faults: [], counts: [] }), 10), ['faults were injected (0)'])
  t.same(failed(run(operations), 11), ['the workload made at least 11 operations (10)'])
  t.same(failed(run(operations, { faults: [fault, fault], counts: [3, 0] }), 10), ['daemon-kill #2 had its effect on the workload: 0 operations failed'])
})
