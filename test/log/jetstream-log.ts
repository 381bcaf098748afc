import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { JetStreamLog, streamName } from '../../lib/log/jetstream-log.js'
import { logSuite } from '../fixtures/log-suite.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
let n = 0

logSuite(t, {
  name: 'JetStreamLog',
  async make (_t, maxPerKey) {
    const namespace = `suite${++n}`
    const fresh = async (): Promise<JetStreamLog> => new JetStreamLog({ nats: { servers: server.url }, namespace, maxPerKey, replicas: 1 })
    return {
      log: await fresh(),
      reopen: fresh,
      recreate: async () => {
        const nc = await connect({ servers: server.url })
        await (await jetstreamManager(nc)).streams.delete(streamName(namespace))
        await nc.close()
        return await fresh()
      }
    }
  }
})

t.test('JetStreamLog: a missing stream is not created unless asked', async t => {
  const log = new JetStreamLog({ nats: { servers: server.url }, namespace: 'absent', maxPerKey: 3, replicas: 1 })
  await log.open()
  t.teardown(async () => await log.close())
  await log.whenConnected(AbortSignal.timeout(5000))
  await t.rejects(log.info({ create: false }), { code: 'LOG_DIVERGED' })
})

t.test('JetStreamLog: appends fail fast with UNAVAILABLE when NATS is unreachable', async t => {
  const log = new JetStreamLog({ nats: { servers: 'nats://127.0.0.1:1' }, namespace: 'down', maxPerKey: 3, replicas: 1 })
  await log.open()
  t.teardown(async () => await log.close())
  t.equal(log.connected, false)
  const started = Date.now()
  await t.rejects(log.append('a', Buffer.from('x'), { expectedLastSeq: 0, msgId: 'm' }), { code: 'UNAVAILABLE' })
  t.ok(Date.now() - started < 1000, 'without waiting')
})
