import t from 'tap'
import { failures } from '../fixtures/faults/effects.js'
import { holdFor, natsKill } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'

t.test('nats-server SIGKILLed under load and restarted on its store: nothing acknowledged is lost, watchers see every version', async t => {
  await runScenario(t, {
    name: 'nats-kill',
    setup: oneNatsServer,
    faults: ({ server }) => [natsKill(server, holdFor(3_000))],
    effect: { what: 'writes failed', count: failures({ kinds: ['cas'] }) }
  })
})
