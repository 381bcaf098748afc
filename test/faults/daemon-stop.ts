import t from 'tap'
import { daemonStop, holdUntilWrites } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'

// Far more than the 10 versions per key kept: the stopped daemon comes back past the retention of every key.
const WRITES_WHILE_STOPPED = 1_000

t.test('a daemon stopped while 1,000 writes land through the others, then started: it catches up and its watcher resumes or resyncs', async t => {
  await runScenario(t, {
    name: 'daemon-stop',
    setup: async t => {
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      return { nats: () => server.url }
    },
    faults: () => [daemonStop(0, holdUntilWrites(WRITES_WHILE_STOPPED, 0))]
  })
})
