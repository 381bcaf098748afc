import t from 'tap'
import { connect } from '../../lib/index.js'
import { startDaemon } from '../fixtures/daemon.js'

t.test('a client watch survives its daemon being SIGKILLed mid-stream and restarted', async t => {
  const daemon = await startDaemon()
  t.teardown(async () => { await daemon.stop() })
  const client = connect({ socket: daemon.socket, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } })
  t.teardown(async () => { await client.close() })
  await client.put('crash/k', { n: 1 })
  const watch = client.watch('crash/', { since: 0 })
  t.match((await watch.next()).value, { key: 'crash/k', version: 1 })
  const pending = watch.next().then(r => r.value as unknown, (err: unknown) => err)
  await daemon.kill()
  await daemon.restart()
  await client.put('crash/k', { n: 2 }, { ifVersion: 1 })
  const next = await pending
  t.match(next, { key: 'crash/k', version: 2 }, `the watch delivers the next change (got ${String((next as Error).message ?? JSON.stringify(next))})`)
  await watch.return?.()
})
