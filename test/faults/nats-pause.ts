import t from 'tap'
import { failures } from '../fixtures/faults/effects.js'
import { holdFor, natsPause } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'

// Longer than the write timeout (5 s), so writes in flight end unknown and may land after SIGCONT.
const PAUSE_MS = 7_000

t.test('nats-server SIGSTOPped longer than the write timeout, then SIGCONT: unknown writes land at most once, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'nats-pause',
    setup: oneNatsServer,
    faults: ({ server }) => [natsPause(server, holdFor(PAUSE_MS))],
    // TIMEOUT from the write's deadline, or UNAVAILABLE when the publish itself timed out: either may have landed.
    effect: { what: 'writes ended unknown (TIMEOUT or UNAVAILABLE)', count: failures({ kinds: ['cas'], outcome: 'unknown', codes: ['TIMEOUT', 'UNAVAILABLE'] }) }
  })
})
