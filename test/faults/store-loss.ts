import t from 'tap'
import { storeLoss } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'

t.test('the JetStream store lost under load, then `credreg admin reseed` on one daemon: no acknowledged write is lost, versions continue, watchers see every version', async t => {
  await runScenario(t, {
    name: 'store-loss',
    setup: async t => {
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      return { server, nats: () => server.url }
    },
    // Through daemon 1: any daemon works, the others add what it lacks.
    faults: ({ server }) => [storeLoss(server, 1)]
  })
})
