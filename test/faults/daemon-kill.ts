import t from 'tap'
import { failures } from '../fixtures/faults/effects.js'
import { daemonKill, holdFor } from '../fixtures/faults/faults.js'
import { oneNatsServer, runScenario } from '../fixtures/faults/scenario.js'

t.test('a daemon SIGKILLed under load and restarted on its replica: its watcher resumes, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'daemon-kill',
    setup: oneNatsServer,
    faults: () => [daemonKill(0, holdFor(2_000))],
    effect: { what: 'operations of the killed daemon\'s clients failed', count: failures() }
  })
})
