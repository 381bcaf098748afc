import t from 'tap'
import { holdFor, natsKill } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'

t.test('nats-server SIGKILLed under load and restarted on its store: nothing acknowledged is lost, watchers see every version', async t => {
  await runScenario(t, {
    name: 'nats-kill',
    setup: async t => {
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      return { server, nats: () => server.url }
    },
    faults: ({ server }) => [natsKill(server, holdFor(3_000))]
  })
})
