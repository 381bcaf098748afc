import t from 'tap'
import { Level } from 'level'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Replica } from '../../lib/replica/replica.js'
import type { Db } from '../../lib/replica/store.js'
import { spawnTs } from '../fixtures/child.js'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'
import { join } from 'node:path'
import { replicaKeys } from '../fixtures/record-keys.js'

const writerScript = fileURLToPath(new URL('../fixtures/crash-writer.ts', import.meta.url))

t.test('a node SIGKILLed mid-stream of writes reopens consistent and catches up', async t => {
  const server = await startNatsServer()
  t.teardown(async () => await server.stop())
  const dataKey = newDataKey()
  const dir = await tempDir(t)
  const other = await testNode(t, { dataKey, nats: { servers: server.url } })

  const child = spawnTs(writerScript, [], { DATA_DIR: dir, DATA_KEY: dataKey.toString('hex'), NATS_URL: server.url })
  t.teardown(() => { child.kill('SIGKILL') })
  const acknowledged: Array<[string, number]> = []
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const [key, version] = line.split(' ')
        acknowledged.push([key as string, Number(version)])
      }
      if (acknowledged.length >= 300) resolve()
    })
    child.once('exit', code => reject(new Error(`the writer exited early (${code}): ${stderr}`)))
  })
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.ok(acknowledged.length >= 300, `killed after ${acknowledged.length} acknowledged writes`)

  // Writes go on elsewhere while the crashed node is down.
  for (let i = 0; i < 50; i++) await other.put(`crash/${i % 25}`, { after: i })

  // Inspect the crashed replica as it is on disk, before it applies anything more.
  const db: Db = new Level<string, string>(join(dir, 'replica'))
  await db.open()
  const replica = new Replica({ db, namespace: 'default', ...replicaKeys(dataKey), historyDepth: 10 })
  await replica.load()
  const applied = replica.appliedSeq
  let maxSeq = 0
  let live = 0
  for await (const [key, entity] of replica.store.entities.iterator()) {
    maxSeq = Math.max(maxSeq, entity.seq)
    if (entity.op !== 'delete') live++
    const history = await replica.storedHistory(key)
    t.equal(history.at(-1)?.version, entity.version, `${key}: the newest history entry is the entity`)
    t.same(history.map(h => [h.version, h.seq]), entity.retained, `${key}: history matches the retained index`)
  }
  const lastChange = (await replica.store.changes.keys({ reverse: true, limit: 1 }).all())[0]
  t.ok(applied > 0, `applied sequence ${applied}`)
  t.ok(maxSeq <= applied, 'no entity is newer than the applied sequence')
  t.ok(Number(lastChange) <= applied, 'no change index entry is newer than the applied sequence')
  t.equal(replica.liveCount, live, 'the live count matches the content')
  await db.close()

  const reopened = await testNode(t, { dataDir: dir, dataKey, nats: { servers: server.url } })
  await caughtUp(reopened)
  await caughtUp(other)
  t.same(await snapshot(reopened), await snapshot(other), 'caught up to the same state and history')
  for (const [key, version] of acknowledged) {
    if ((await reopened.get(key)).version < version) t.fail(`${key}@${version} was acknowledged but is missing`)
  }
})
