import t from 'tap'
import { holdFor, natsPause } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'

// Longer than the write timeout (5 s), so writes in flight end unknown and may land after SIGCONT.
const PAUSE_MS = 7_000

t.test('nats-server SIGSTOPped longer than the write timeout, then SIGCONT: unknown writes land at most once, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'nats-pause',
    setup: oneNatsServer,
    faults: ({ server }) => [natsPause(server, holdFor(PAUSE_MS))]
  })
})
