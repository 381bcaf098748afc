import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { randomBytes } from 'node:crypto'
import { Authenticator } from '../../lib/authenticator.js'
import { JetStreamLog, streamName, type JetStreamLogOptions } from '../../lib/log/jetstream-log.js'
import { logSuite } from '../fixtures/log-suite.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const server = await startNatsServer()
t.teardown(async () => await server.stop())
let n = 0
const authenticator = new Authenticator(randomBytes(32))
const options = (namespace: string, maxPerKey: number, servers = server.url): JetStreamLogOptions =>
  ({ nats: { servers }, namespace, maxPerKey, replicas: 1, authenticator, maxValueBytes: 65536 })

logSuite(t, {
  name: 'JetStreamLog',
  async make (_t, maxPerKey) {
    const namespace = `suite${++n}`
    const fresh = async (): Promise<JetStreamLog> => new JetStreamLog(options(namespace, maxPerKey))
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
  const log = new JetStreamLog(options('absent', 3))
  await log.open()
  t.teardown(async () => await log.close())
  await log.whenConnected(AbortSignal.timeout(5000))
  await t.rejects(log.info({ create: false }), { code: 'LOG_DIVERGED' })
})

t.test('JetStreamLog: appends fail with UNAVAILABLE when NATS is unreachable', async t => {
  const log = new JetStreamLog(options('down', 3, 'nats://127.0.0.1:1'))
  await log.open()
  t.teardown(async () => await log.close())
  t.equal(log.connected, false)
  await t.rejects(log.append('a', Buffer.from('x'), { expectedLastSeq: 0, msgId: 'm' }), { code: 'UNAVAILABLE' })
})

t.test('JetStreamLog: the stream refuses messages larger than any record, and with a byte limit refuses new records when full, dropping none', async t => {
  const log = new JetStreamLog({ ...options('bounded', 3), maxValueBytes: 1024, maxBytes: 1024 * 1024 })
  await log.open()
  t.teardown(async () => await log.close())
  await log.whenConnected(AbortSignal.timeout(5000))
  await log.info({ create: true })
  const nc = await connect({ servers: server.url })
  t.teardown(async () => await nc.close())
  const { config } = await (await jetstreamManager(nc)).streams.info(streamName('bounded'))
  t.match(config, { max_msg_size: 3436, max_bytes: 1024 * 1024, discard: 'new' })
  await t.rejects(log.append('big', Buffer.alloc(4000), { expectedLastSeq: 0, msgId: 'big' }), { code: 'UNAVAILABLE' }, 'a record too large for any node is refused by the server')
  let landed = 0
  await t.rejects((async () => {
    for (let i = 0; i < 1000; i++) {
      await log.append(`k/${i}`, Buffer.alloc(3000), { expectedLastSeq: 0, msgId: `k${i}` })
      landed++
    }
  })(), { code: 'UNAVAILABLE' }, 'a full stream refuses the next record')
  t.ok(landed > 100, `${landed} records landed first`)
  t.ok(await log.recordAt(2) !== undefined, 'the oldest records are all still there')
})
