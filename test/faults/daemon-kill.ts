import t from 'tap'
import { daemonKill, holdFor } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'

t.test('a daemon SIGKILLed under load and restarted on its replica: its watcher resumes, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'daemon-kill',
    setup: async t => {
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      return { nats: () => server.url }
    },
    faults: () => [daemonKill(0, holdFor(2_000))]
  })
})
