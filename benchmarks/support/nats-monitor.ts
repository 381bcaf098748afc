/**
 * A nats-server of its own for a scenario that measures the server: JetStream
 * on a temp store, the monitoring endpoint on a free port, and its message
 * counters (/varz `in_msgs`, `out_msgs`) read as rates over a stretch of time.
 */
import { freePort } from '../../test/fixtures/ports.js'
import { startNatsServer, type NatsServer } from '../../test/fixtures/nats-server.js'

/** /varz figures used here. */
export interface Varz { in_msgs: number, out_msgs: number, mem: number, subscriptions: number, connections: number }

export interface MonitoredNats extends AsyncDisposable {
  readonly server: NatsServer
  varz: () => Promise<Varz>
  /** Starts counting: the returned function gives messages per second in and out since then. */
  rates: () => Promise<() => Promise<{ inPerSec: number, outPerSec: number }>>
}

export async function startMonitoredNats (): Promise<MonitoredNats> {
  const monitorPort = await freePort()
  const server = await startNatsServer({ monitorPort })
  const varz = async (): Promise<Varz> => await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json() as Varz
  return {
    server,
    varz,
    rates: async () => {
      const v0 = await varz()
      const t0 = performance.now()
      return async () => {
        const v = await varz()
        const s = (performance.now() - t0) / 1000
        return { inPerSec: (v.in_msgs - v0.in_msgs) / s, outPerSec: (v.out_msgs - v0.out_msgs) / s }
      }
    },
    [Symbol.asyncDispose]: async () => { await server.stop() }
  }
}
