import t from 'tap'
import { failures } from '../fixtures/faults/effects.js'
import { holdFor, streamLeaderKill } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsCluster } from '../fixtures/nats-cluster.js'

const STREAM = 'CREDREG_default'

t.test('the leader of the R3 stream SIGKILLed under load and restarted later: writes fail over, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'stream-leader-kill',
    setup: async t => {
      const cluster = await startNatsCluster()
      t.teardown(async () => { await cluster.stop() })
      return { cluster, nats: () => cluster.urls.join(','), daemonArgs: ['--replicas', '3'] }
    },
    // Publishes fail for about 7 s until the stream elects a new leader; the old one comes back afterwards.
    faults: ({ cluster }) => [streamLeaderKill(cluster, STREAM, holdFor(10_000))],
    // A write normally takes milliseconds; one of a second or more waited for the election.
    effect: { what: 'writes failed or stalled 1 s or more', count: failures({ kinds: ['cas'], stallMs: 1_000 }) }
  })
})
