import { EventSource } from 'eventsource'
import t from 'tap'
import { Agent, fetch as undiciFetch } from 'undici'
import type { ChangeEvent } from '../../lib/types.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const nats = await startNatsServer()
t.teardown(() => nats.stop())
const keyFile = await writeKeyFile()
// History deep enough that the restarted daemon's resume point is still retained (else it would get a resync).
const options = { nats: nats.url, keyFile, args: ['--history', '100'] }
const [a, b] = await Promise.all([startDaemon(options), startDaemon(options)]) as [DaemonProcess, DaemonProcess]
t.teardown(() => Promise.all([a.stop(), b.stop()]))

t.test('both daemons run in cluster mode on the same NATS', async t => {
  for (const d of [a, b]) {
    const status = await eventually(async () => {
      const s = (await d.request('GET', '/v1/status')).json
      return s.nats.connected === true ? s : undefined
    }, 'a NATS connection')
    t.match(status, { mode: 'cluster', nats: { connected: true, server: `127.0.0.1:${nats.port}` } })
  }
})

t.test('a put on A is readable on B, and B logs the apply with the writer\'s correlation id', async t => {
  const res = await a.request('PUT', '/v1/entities/shared/db', { body: { pass: 'one' } })
  t.equal(res.status, 201)
  const correlationId = res.headers['x-correlation-id'] as string
  const onB = await eventually(async () => {
    const got = await b.request('GET', '/v1/entities/shared/db')
    return got.status === 200 ? got : undefined
  }, 'the entity on B')
  t.match(onB.json, { key: 'shared/db', version: 1, value: { pass: 'one' }, meta: { nodeId: a.nodeId, correlationId } })
  t.equal(onB.headers.etag, '"1"')
  t.ok(await b.waitForLog(l => l.correlationId === correlationId && l.msg === 'change applied'), 'B logs the apply')
  t.ok(await a.waitForLog(l => l.correlationId === correlationId && l.msg === 'write applied'), 'A logs the write')
})

t.test('a watcher on B sees every put on A, and resumes across a restart of B with no missing or duplicated version', async t => {
  const agent = new Agent({ connect: { socketPath: b.socket } })
  t.teardown(() => agent.close())
  const versions: number[] = []
  const es = new EventSource('http://localhost/v1/watch?prefix=stream/', {
    fetch: async (input, init) => await undiciFetch(input as string, { ...init as object, dispatcher: agent }) as unknown as Response
  })
  t.teardown(() => es.close())
  const record = (e: MessageEvent): void => { versions.push((JSON.parse(e.data as string) as ChangeEvent).version) }
  es.addEventListener('put', record)
  es.addEventListener('resync', record)
  await new Promise(resolve => es.addEventListener('open', resolve, { once: true }))

  const total = 30
  const writes = (async () => {
    for (let i = 1; i <= total; i++) {
      const res = await a.request('PUT', '/v1/entities/stream/k', { body: { i } })
      if (res.status >= 300) throw new Error(`write ${i}: ${res.text}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  })()
  await eventually(async () => versions.length >= 5, 'the first events')
  await b.restart()
  await writes
  await eventually(async () => versions.length >= total, `all ${total} versions on B`, 20_000)
  t.same(versions, Array.from({ length: total }, (_, i) => i + 1), 'every version once, in order')
})
