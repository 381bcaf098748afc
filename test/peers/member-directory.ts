/**
 * The member directory against a real nats-server: reads are shared and
 * cached, and while the server does not answer the peers are listed as last
 * read, once per cache period, instead of every ask waiting for NATS.
 */
import { randomBytes } from 'node:crypto'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import t from 'tap'
import { Authenticator } from '../../lib/authenticator.js'
import { memberSubject, signHeartbeat } from '../../lib/peers/heartbeat-record.js'
import { IgnoredMessages } from '../../lib/peers/ignored-messages.js'
import { MemberDirectory } from '../../lib/peers/member-directory.js'
import { ensureMembersStream } from '../../lib/peers/members-stream.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const INTERVAL_MS = 60_000
const server = await startNatsServer()
t.teardown(async () => await server.stop())
const nc = await connect({ servers: server.url, reconnect: false })
t.teardown(async () => await nc.close())
const js = jetstream(nc)
const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 500 })
const auth = new Authenticator(randomBytes(32))
const warnings: string[] = []
const logger = { debug () {}, info () {}, warn (_o: object, msg?: string) { warnings.push(msg ?? '') }, error () {} }
const directory = new MemberDirectory({ js, jsm, namespace: 'ns', nodeId: 'me', authenticator: auth, intervalMs: INTERVAL_MS, logger, ignored: new IgnoredMessages({ logger }), cacheMs: 1000 })

await ensureMembersStream(jsm, 'ns', INTERVAL_MS)
const write = async (nodeId: string, beat: number): Promise<void> => {
  const now = new Date().toISOString()
  await js.publish(memberSubject('ns', nodeId), JSON.stringify(signHeartbeat(auth, { namespace: 'ns', nodeId, hostname: nodeId, startedAt: '2026-01-01T00:00:00.000Z', beat, at: now, appliedSeq: beat, logSeq: beat, version: '1' })))
}

t.test('asks within the cache period share one read; a later ask reads again', async t => {
  await write('me', 1)
  await write('peer-a', 1)
  t.same((await directory.peers()).map(p => p.nodeId), ['peer-a'], 'not itself')
  await write('peer-b', 1)
  t.same((await directory.peers()).map(p => p.nodeId), ['peer-a'], 'from the cache')
  await new Promise(resolve => setTimeout(resolve, 1100))
  const [x, y] = await Promise.all([directory.peers(), directory.peers()])
  t.same(x.map(p => p.nodeId).sort(), ['peer-a', 'peer-b'], 'read again')
  t.same(x, y, 'two concurrent asks, one answer')
})

t.test('while the server does not answer, the peers are listed as last read, with one warning', async t => {
  await new Promise(resolve => setTimeout(resolve, 1100))
  await server.pause()
  t.teardown(() => server.resume())
  const started = Date.now()
  const rows = await directory.peers()
  t.same(rows.map(p => p.nodeId).sort(), ['peer-a', 'peer-b'])
  t.ok(Date.now() - started < 5000, `after ${Date.now() - started} ms`)
  const again = Date.now()
  await directory.peers()
  t.ok(Date.now() - again < 400, 'the next ask within the cache period does not wait for the 500 ms timeout')
  await new Promise(resolve => setTimeout(resolve, 1100))
  await directory.peers()
  t.equal(warnings.length, 1, 'one warning for the same failure')
  server.resume()
})
