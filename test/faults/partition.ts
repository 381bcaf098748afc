import t from 'tap'
import { disconnectedSamples, failures } from '../fixtures/faults/effects.js'
import { holdFor, partition } from '../fixtures/faults/faults.js'
import { runScenario } from '../fixtures/faults/scenario.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { startTcpProxy } from '../fixtures/tcp-proxy.js'

// Longer than the client's ping interval times the pings allowed out (3 s x 2), so the stale link is
// noticed, with room for timers that run late on a busy machine (2 s of room was not always enough).
const BLACKHOLE_MS = 12_000
const CUT_MS = 3_000

t.test('one daemon partitioned from NATS (silently, then by reset connections) and healed: it catches up, nothing acknowledged is lost', async t => {
  await runScenario(t, {
    name: 'partition',
    setup: async t => {
      // A single server: the daemon behind the proxy learns no other URL to reach NATS around it.
      const server = await startNatsServer()
      t.teardown(async () => { await server.stop() })
      const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: server.port } })
      t.teardown(async () => { await proxy.close() })
      return { proxy, nats: (i: number) => i === 0 ? proxy.url('nats') : server.url }
    },
    faults: ({ proxy }) => [partition(proxy, 0, 'blackhole', holdFor(BLACKHOLE_MS)), partition(proxy, 0, 'cut', holdFor(CUT_MS))],
    effect: {
      what: 'status polls of the partitioned daemon reporting NATS disconnected, and its writes failing UNAVAILABLE',
      count: (run, fault) => disconnectedSamples(run, fault) + failures({ kinds: ['cas'], codes: ['UNAVAILABLE'] })(run, fault)
    }
  })
})
