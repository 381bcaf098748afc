/**
 * `credreg dev`: a standalone daemon in the CLI's foreground, on the socket
 * every other command looks at by default, stopped cleanly by SIGINT or SIGTERM.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCli, startCli } from '../fixtures/cli.js'
import { shortTempDir } from '../fixtures/daemon.js'

// Each test has directories and sockets of its own, so they may run side by side.
t.jobs = 3

t.test('credreg dev serves the default socket: credreg status and put/get need no flags; SIGINT stops it, exit 0, socket removed', async t => {
  const home = await shortTempDir(t)
  const env = { XDG_DATA_HOME: home }
  const socket = join(home, 'credreg', 'dev', 'credregd.sock')
  const dev = startCli(['dev'], { env })
  t.teardown(async () => { await dev.stop('SIGKILL') })
  await dev.waitFor(line => line === 'Stop it with Ctrl-C.')
  t.match(dev.stdout(), `socket    ${socket}`)
  t.match(dev.stdout(), `data dir  ${join(home, 'credreg', 'dev')}`)
  t.notMatch(dev.stdout(), 'CREDREG_SOCKET', 'the default socket needs no export')
  t.ok(existsSync(socket), 'the socket exists')

  const status = await runCli(['status', '--json'], { env })
  t.equal(status.code, 0, status.stderr)
  t.match(JSON.parse(status.stdout), { mode: 'standalone', nats: { connected: false }, lag: 0 })
  t.equal((await runCli(['put', 'dev/k', '{"a":1}'], { env })).stdout, 'dev/k version 1\n')
  t.equal((await runCli(['get', 'dev/k', '--field', 'a'], { env })).stdout, '1\n')

  const { code, stderr } = await dev.stop('SIGINT')
  t.equal(code, 0, `exit 0 (stderr: ${stderr})`)
  t.notOk(existsSync(socket), 'the socket is removed')
  t.equal((await runCli(['status'], { env })).code, 5, 'and then nothing answers there')
})

t.test('credreg dev --data-dir --socket --json: one JSON line; the socket shown is the one to use; SIGTERM stops it', async t => {
  const dir = await shortTempDir(t)
  const socket = join(dir, 'dev.sock')
  const dev = startCli(['dev', '--data-dir', join(dir, 'data'), '--socket', socket, '--json'], { env: { XDG_DATA_HOME: dir } })
  t.teardown(async () => { await dev.stop('SIGKILL') })
  const info = JSON.parse(await dev.waitFor(line => line.startsWith('{')))
  t.match(info, { socket, adminSocket: join(dir, 'credregd-admin.sock'), dataDir: join(dir, 'data'), nodeId: String, mode: 'standalone' })

  const [viaEnv, second, admin] = await Promise.all([
    runCli(['status', '--json'], { env: { CREDREG_SOCKET: socket } }),
    runCli(['dev', '--data-dir', join(dir, 'other')], { env: { CREDREG_SOCKET: socket } }),
    runCli(['admin', 'token', 'list', '--json'], { env: { CREDREG_SOCKET: socket } })
  ])
  t.match(admin, { code: 0, stdout: '[]\n' }, 'the admin socket is beside the socket, where the admin commands look')
  t.equal(viaEnv.code, 0, 'CREDREG_SOCKET reaches it')
  t.equal(JSON.parse(viaEnv.stdout).nodeId, info.nodeId)
  t.equal(second.code, 2, 'a second dev daemon does not take over a live socket')
  t.match(second.stderr, /another process is serving on .* \(INVALID_CONFIG\)\n$/)

  const { code } = await dev.stop('SIGTERM')
  t.equal(code, 0)
  t.notOk(existsSync(socket), 'the socket is removed')
  t.notOk(existsSync(info.adminSocket), 'the admin socket too')
})

t.test('credreg dev on a socket other than the default says how to reach it', async t => {
  const dir = await shortTempDir(t)
  const dev = startCli(['dev', '--data-dir', join(dir, 'data')], { env: { XDG_DATA_HOME: join(dir, 'xdg') } })
  t.teardown(async () => { await dev.stop('SIGKILL') })
  await dev.waitFor(line => line === 'Stop it with Ctrl-C.')
  const socket = join(dir, 'data', 'credregd.sock')
  t.match(dev.stdout(), `export CREDREG_SOCKET=${socket}`)
  t.match(dev.stdout(), `credreg --socket ${socket} status`)
  t.equal((await dev.stop('SIGINT')).code, 0)
})
