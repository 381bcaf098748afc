/**
 * Issue 14's end-to-end rotation: three real daemons on one nats-server, a
 * tester per host (`credreg render --test` on one, `credreg agent` with a
 * template `test` on the others). One host's test fails (the database it
 * checks is not ready), so the rotation shows two ok and one failed with the
 * test's output and the release is refused; once the cause is fixed that
 * host tests again by itself and acknowledges ok, the release goes through,
 * and every host renders the released values and reloads exactly once.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { runCli, startCli, type RunningCli } from '../fixtures/cli.js'
import { shortTempDir, startDaemon, writeKeyFile, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { startNatsServer } from '../fixtures/nats-server.js'

const nats = await startNatsServer()
t.teardown(() => nats.stop())
const keyFile = await writeKeyFile()
const daemons = await Promise.all([1, 2, 3].map(async () => await startDaemon({ nats: nats.url, keyFile }))) as [DaemonProcess, DaemonProcess, DaemonProcess]
t.teardown(() => Promise.all(daemons.map(async d => await d.stop())))
const [a] = daemons

await Promise.all(daemons.map(async d => await eventually(async () => {
  const rows = (await d.request('GET', '/v1/nodes')).json as Array<{ state: string }>
  return rows.length === 3 && rows.every(r => r.state === 'alive')
}, `${d.nodeId} to list three alive nodes`)))

t.test('two hosts ok, one failed until its cause is fixed; then the release, one render and one reload per host', async t => {
  const dir = await shortTempDir(t)
  await writeFile(join(dir, 'db.tpl'), 'password={{ secret["rot3/db"].password }}\n')
  await a.request('PUT', '/v1/entities/rot3/db', { body: { password: 'old' } })
  const seeded = (await a.request('GET', '/v1/status')).json.appliedSeq as number
  await Promise.all(daemons.map(async d => await eventually(async () => (await d.request('GET', '/v1/status')).json.appliedSeq >= seeded, `${d.nodeId} to apply the seed`)))

  const fixed = join(dir, 'db-ready')
  // Host 1 runs credreg render --test; hosts 2 and 3 run credreg agent with a test in their configuration.
  const agents: RunningCli[] = await Promise.all(daemons.map(async (d, i) => {
    const test = i === 2
      ? `test -f ${fixed} || { echo "db on host 3 refused $(cat "$CREDREG_PENDING_FILE")"; exit 1; }`
      : 'grep -q password=new "$CREDREG_PENDING_FILE"'
    const reload = `echo "$(cat host${i}.conf)" >> reloads${i}`
    let args: string[]
    if (i === 0) {
      args = ['render', join(dir, 'db.tpl'), '--out', join(dir, 'host0.conf'), '--test', test, '--retest', '1s', '--on-change', `cd ${dir} && ${reload}`]
    } else {
      await writeFile(join(dir, `agent${i}.json`), JSON.stringify({ templates: [{ source: 'db.tpl', destination: `host${i}.conf`, test }], command: reload, retestMs: 1000 }))
      args = ['agent', '--config', join(dir, `agent${i}.json`)]
    }
    const agent = startCli(args, { socket: d.socket })
    t.teardown(async () => { await agent.stop('SIGKILL') })
    return agent
  }))
  await Promise.all(agents.map(async agent => await agent.waitFor(line => line.includes('(start)'), 'stderr')))

  const staged = await a.request('POST', '/v1/rotations', { body: { changes: [{ key: 'rot3/db', op: 'put', value: { password: 'new' } }] } })
  t.equal(staged.status, 201, 'staged')
  const id = staged.json.id as string
  const status = await eventually(async () => {
    const r = (await a.request('GET', `/v1/rotations/${id}`)).json
    return r.hosts.every((h: { ack: string }) => h.ack !== 'silent') && r
  }, 'three acknowledgements')
  const byNode = new Map(status.hosts.map((h: { nodeId: string }) => [h.nodeId, h]))
  t.match(byNode.get(daemons[0].nodeId), { ack: 'ok' })
  t.match(byNode.get(daemons[1].nodeId), { ack: 'ok' })
  t.match(byNode.get(daemons[2].nodeId), { ack: 'failed', message: /db on host 3 refused password=new/ })
  const cli = await runCli(['rotation', 'status', id], { socket: daemons[1].socket })
  t.match(cli.stdout, /failed/, 'credreg rotation status shows the failure')
  t.match(cli.stdout, /db on host 3 refused/, 'with the test\'s output')

  const refused = await a.request('POST', `/v1/rotations/${id}/release`, { body: {} })
  t.equal(refused.status, 409, 'release refused while a host failed')
  t.match(refused.text, new RegExp(`failed on ${daemons[2].nodeId}`))

  await writeFile(fixed, '')
  await eventually(async () => (await a.request('GET', `/v1/rotations/${id}`)).json.hosts.every((h: { ack: string }) => h.ack === 'ok'), 'host 3 to test again and acknowledge ok')
  // The agent logs its acknowledgement once the daemon answered it: the line may trail the state.
  const retested = new RegExp(`rotation ${id}: tested again .*host2\\.conf\\.pending, acknowledged ok`)
  await eventually(async () => retested.test(agents[2]?.stderr() ?? ''), 'host 3\'s log line')
  t.match(agents[2]?.stderr(), retested)
  t.equal((await a.request('POST', `/v1/rotations/${id}/release`, { body: {} })).status, 200, 'released')

  for (const i of [0, 1, 2]) {
    await eventually(async () => await readFile(join(dir, `reloads${i}`), 'utf8').catch(() => '') !== '', `host ${i + 1} to reload`)
  }
  await new Promise(resolve => setTimeout(resolve, 500))
  for (const i of [0, 1, 2]) {
    t.equal(await readFile(join(dir, `host${i}.conf`), 'utf8'), 'password=new\n', `host ${i + 1} renders the released value`)
    t.equal(await readFile(join(dir, `reloads${i}`), 'utf8'), 'password=new\n', `host ${i + 1} ran --on-change once, after the release`)
  }
  for (const agent of agents) t.equal((await agent.stop('SIGTERM')).code, 0)
})
