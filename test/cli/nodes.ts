/**
 * `credreg nodes --key` on three daemons sharing one NATS server: with one
 * daemon stopped, a write made after that is shown as not applied there, the
 * version it holds told from the sequence it last said it applied.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { runCli } from '../fixtures/cli.js'
import { startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const nats = await startNatsServer()
t.teardown(async () => { await nats.stop() })
const keyFile = await writeKeyFile()
// A stopped daemon stays listed (gone) 63 intervals: long enough for the second test under load.
const HEARTBEAT = ['--heartbeat-ms', '1000']
const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await startDaemon({ nats: nats.url, keyFile, args: HEARTBEAT }))) as [DaemonProcess, DaemonProcess, DaemonProcess]
const running = new Set([a, b, c])
t.teardown(async () => { await Promise.all([...running].map(async d => await d.stop())) })

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** The version of `key` each node holds, as `a` reports it. */
async function held (key: string): Promise<Record<string, number | null>> {
  const rows = (await a.request('GET', `/v1/nodes?key=${key}`)).json as Array<{ nodeId: string, keyVersion: number | null }>
  return Object.fromEntries(rows.map(r => [r.nodeId, r.keyVersion]))
}

t.test('nodes --key names the host that has not applied the latest write while its daemon is stopped', async t => {
  await until('every daemon to hear of the others', async () => ((await a.request('GET', '/v1/nodes')).json as unknown[]).length === 3)
  const put = await a.request('PUT', '/v1/entities/app/db', { body: { password: 'old' } })
  t.equal(put.status, 201)
  await until('every daemon to hold version 1', async () => Object.values(await held('app/db')).every(v => v === 1))

  running.delete(c)
  t.equal(await c.stop(), 0, 'C is stopped')
  const write = await runCli(['put', 'app/db', '{"password":"new"}'], { socket: a.socket })
  t.equal(write.stdout, 'app/db version 2\n')
  await until('B to hold version 2', async () => (await held('app/db'))[b.nodeId] === 2)
  const seq = ((await a.request('GET', '/v1/history/app/db')).json.versions as Array<{ seq: number }>).at(-1)?.seq as number

  const [text, json, status] = await Promise.all([
    runCli(['nodes', '--key', 'app/db'], { socket: a.socket }),
    runCli(['nodes', '--key', 'app/db', '--json'], { socket: a.socket }),
    runCli(['status'], { socket: a.socket })
  ])
  t.equal(text.code, 0, text.stderr)
  const lines = text.stdout.trimEnd().split('\n')
  t.match(lines[0], /^NODE\s+HOST\s+APPLIED SEQ\s+LAG\s+LAST SEEN\s+CREDREG\s+KEY VERSION\s+STATE$/)
  const line = (id: string): string | undefined => lines.find(l => l.startsWith(id + ' '))
  t.match(line(a.nodeId), /\s2\s+current$/, 'A holds the new version')
  t.match(line(b.nodeId), /\s2\s+current$/, 'B holds the new version')
  t.match(line(c.nodeId), /\s1\s+behind$/, 'C is named as behind, holding version 1')
  t.equal(lines.length, 4)

  const rows = JSON.parse(json.stdout) as Array<{ nodeId: string, appliedSeq: number, keyVersion: number | null, lastSeenS: number }>
  t.match(rows[0], { nodeId: a.nodeId, keyVersion: 2, lastSeenS: 0 }, 'the answering daemon first')
  t.match(rows.find(r => r.nodeId === b.nodeId), { keyVersion: 2 })
  const stale = rows.find(r => r.nodeId === c.nodeId)
  t.match(stale, { keyVersion: 1 }, 'C holds version 1')
  t.ok((stale?.appliedSeq ?? Infinity) < seq, `C last reported applied seq ${String(stale?.appliedSeq)}, before the write at seq ${seq}`)

  t.match(status.stdout, /^mode\s+cluster$/m)
  t.match(status.stdout, new RegExp(`^nats\\s+connected to 127\\.0\\.0\\.1:${nats.port}$`, 'm'))
})

t.test('a daemon keeping one version per key cannot tell the version of a host behind it: ? and behind, from its applied sequence', async t => {
  const d = await startDaemon({ nats: nats.url, keyFile, args: [...HEARTBEAT, '--history', '1'] })
  running.add(d)
  await until('D to hold version 2', async () => (await d.request('GET', '/v1/entities/app/db')).json?.version === 2)
  const text = await runCli(['nodes', '--key', 'app/db'], { socket: d.socket })
  t.equal(text.code, 0, text.stderr)
  const line = (id: string): string | undefined => text.stdout.split('\n').find(l => l.startsWith(id + ' '))
  t.match(line(c.nodeId), /\s\?\s+behind$/, 'C, stopped before version 2')
  t.match(line(d.nodeId), /\s2\s+current$/, 'D itself')
})
