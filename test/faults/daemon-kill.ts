import t from 'tap'
import { daemonKill, holdFor } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const WATCH_CRASH = 'defect: the client watch ends with INTERNAL when its daemon is SIGKILLed mid-stream (undici "Invalid EOF state" is not retryable in lib/client/error-codec.ts; test/regressions/watch-daemon-crash.ts)'
const RESYNC_RACE = 'defect: a resumed watch gets neither a resync nor the missed versions of a key that changes while its backlog is read (lib/replica/watch.ts; test/regressions/watch-resync-race.ts)'

t.test('a daemon SIGKILLed under load and restarted on its replica: its watcher resumes, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'daemon-kill',
    setup: async t => {
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      return { nats: () => server.url }
    },
    faults: () => [daemonKill(0, holdFor(2_000))],
    knownDefects: { watchErrors: WATCH_CRASH, watcherGaps: RESYNC_RACE, checkerOk: RESYNC_RACE }
  })
})
