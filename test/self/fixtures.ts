/** The test fixtures themselves: ports, servers, clusters, the proxy, child processes. */
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { spawnTs } from '../fixtures/child.js'
import { startNatsCluster, waitForJetStream } from '../fixtures/nats-cluster.js'
import { natsServerBinary, startNatsServer } from '../fixtures/nats-server.js'
import { freePorts } from '../fixtures/ports.js'
import { startTcpProxy } from '../fixtures/tcp-proxy.js'

/** Retries `fn` until it stops throwing, for steps that wait on a failover. */
async function untilResolves<T> (fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(100)
    }
  }
}

/** Whether `pid` runs; a zombie counts as dead, since a container's init may never reap it. */
function isAlive (pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function client (t: Test, servers: string | string[]): Promise<NatsConnection> {
  const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 })
  t.teardown(() => nc.close())
  return nc
}

t.test('freePorts hands out distinct ports', async t => {
  const ports = await freePorts(6)
  t.equal(new Set(ports).size, 6)
})

t.test('natsServerBinary finds the nats-server executable', async t => {
  t.match(natsServerBinary(), /nats-server$/)
})

t.test('a JetStream message survives a crash and a restart on the same store', async t => {
  const server = await startNatsServer()
  t.teardown(() => server.stop())
  t.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/)

  const nc = await client(t, server.url)
  // A short timeout, so a request lost while reconnecting is retried soon.
  const jsm = await jetstreamManager(nc, { timeout: 1_000 })
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] })
  await jetstream(nc).publish('orders.1', 'kept')

  const pid = server.pid
  await server.kill()
  t.notOk(isAlive(pid), 'the old process is gone')
  await server.restart()
  t.not(server.pid, pid, 'a new process')

  const msg = await untilResolves(() => jsm.streams.getMessage('ORDERS', { seq: 1 }))
  t.equal(msg?.string(), 'kept')
})

t.test('stop removes the temp store and a caller-chosen store is kept', async t => {
  const storeDir = t.testdir()
  const server = await startNatsServer({ storeDir })
  t.equal(server.storeDir, storeDir)
  await server.stop()
  t.ok(existsSync(storeDir), 'the chosen store is kept')
  await t.rejects(server.restart(), /was stopped/)

  const temp = await startNatsServer()
  await temp.stop()
  t.notOk(existsSync(temp.storeDir), 'the temp store is removed')
})

t.test('credentials are enforced', async t => {
  const server = await startNatsServer({ user: 'app', pass: 's3cret', jetstream: false })
  t.teardown(() => server.stop())
  await t.rejects(connect({ servers: server.url }), /Authorization/i)
  const nc = await connect({ servers: server.url, user: 'app', pass: 's3cret' })
  await nc.close()
  await t.rejects(startNatsServer({ user: 'a', token: 't' }), TypeError)
})

t.test('a paused server stops answering until resumed', async t => {
  const server = await startNatsServer({ jetstream: false })
  t.teardown(() => server.stop())
  const nc = await client(t, server.url)
  await server.pause()
  const flushed = nc.flush()
  t.equal(await Promise.race([flushed.then(() => 'answered'), sleep(300, 'silent')]), 'silent')
  server.resume()
  await flushed
})

t.test('a 3-node cluster keeps an R3 stream writable with one node down', async t => {
  const cluster = await startNatsCluster()
  t.teardown(() => cluster.stop())
  t.equal(cluster.servers.length, 3)
  t.equal(new Set(cluster.urls).size, 3)

  const nc = await client(t, cluster.urls)
  const jsm = await jetstreamManager(nc)
  const info = await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'], num_replicas: 3 })
  t.equal(info.config.num_replicas, 3)
  const js = jetstream(nc)
  await js.publish('events.1', 'one')

  const [victim] = cluster.servers
  await victim!.kill()
  const ack = await untilResolves(() => js.publish('events.2', 'two', { timeout: 2_000 }))
  t.equal(ack.seq, 2)

  await victim!.restart()
  await waitForJetStream([victim!.url])
  const direct = await client(t, victim!.url)
  const djsm = await jetstreamManager(direct)
  const msg = await untilResolves(() => djsm.streams.getMessage('EVENTS', { seq: 2 }))
  t.equal(msg?.string(), 'two', 'the restarted node serves the stream again')
})

t.test('the TCP proxy delays, blackholes, cuts and heals', async t => {
  const server = await startNatsServer({ jetstream: false })
  t.teardown(() => server.stop())
  const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: server.port } })
  t.teardown(() => proxy.close())

  const responder = await client(t, server.url)
  responder.subscribe('echo', { callback: (_err, msg) => { msg.respond(msg.data) } })
  await responder.flush()
  const nc = await client(t, proxy.url('nats'))
  const echo = (timeout = 500) => nc.request('echo', 'hi', { timeout }).then(m => m.string())

  t.equal(await echo(), 'hi', 'forwards')

  proxy.delay(150)
  const start = Date.now()
  await echo(2_000)
  t.ok(Date.now() - start >= 300, 'each direction adds the delay')
  proxy.heal()

  proxy.blackhole()
  await t.rejects(echo(300), 'requests time out in a blackhole')
  proxy.heal()
  t.equal(await echo(), 'hi', 'works again once healed')

  const disconnected = (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect') return
  })()
  proxy.cut()
  await disconnected
  await t.rejects(echo(300), 'nothing gets through while cut')
  proxy.heal()
  t.equal(await untilResolves(() => echo()), 'hi', 'the client reconnects once healed')
})

t.test('spawnTs runs TypeScript, and servers die with a killed test process', async t => {
  const fixture = pathToFileURL(join(import.meta.dirname, '..', 'fixtures', 'nats-server.js')).href
  const dir = t.testdir({
    'main.ts': `
      import { dirname } from 'node:path'
      import { startNatsServer } from ${JSON.stringify(fixture)}
      const server: { pid: number; storeDir: string } = await startNatsServer({ jetstream: false })
      console.log(JSON.stringify({ pid: server.pid, tempDir: dirname(server.storeDir) }))
      setInterval(() => {}, 1_000)
    `,
  })
  const child = spawnTs(join(dir, 'main.ts'))
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  const { pid, tempDir } = JSON.parse(line.toString()) as { pid: number; tempDir: string }
  t.ok(isAlive(pid), 'the child started a server')
  child.kill('SIGKILL')
  await untilResolves(async () => {
    if (isAlive(pid) || existsSync(tempDir)) throw new Error(`nats-server ${pid} or ${tempDir} still there`)
  }, 5_000)
  t.pass('the server died with its test process and its temp dir is gone')
})
