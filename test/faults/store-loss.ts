import t from 'tap'
import { failures } from '../fixtures/faults/effects.js'
import { storeLoss } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'

t.test('the JetStream store lost under load, then `credreg admin reseed` on one daemon: no acknowledged write is lost, versions continue, watchers see every version', async t => {
  await runScenario(t, {
    name: 'store-loss',
    setup: oneNatsServer,
    // Through daemon 1: any daemon works, the others add what it lacks.
    faults: ({ server }) => [storeLoss(server, 1)],
    // Refused as LOG_DIVERGED once a daemon has checked the recreated log, or failed
    // (UNAVAILABLE, TIMEOUT) while the server restarts empty: which, depends on timing.
    effect: { what: 'writes refused or failed while the store was lost', count: failures({ kinds: ['cas'] }) }
  })
})
