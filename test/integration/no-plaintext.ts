import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startNatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, tempDir, testNode } from '../fixtures/nodes.js'

async function * files (dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield * files(path)
    else if (entry.isFile()) yield path
  }
}

async function findPlaintext (dir: string, secrets: string[]): Promise<string[]> {
  const hits: string[] = []
  for await (const file of files(dir)) {
    const bytes = await readFile(file)
    for (const secret of secrets) if (bytes.includes(secret)) hits.push(`${file}: ${secret}`)
  }
  return hits
}

t.test('neither the JetStream store nor the replica on disk holds any written value in plaintext', async t => {
  const storeDir = await tempDir(t)
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => await server.stop())
  const dataDir = await tempDir(t)
  const node = await testNode(t, { dataDir, dataKey: newDataKey(), nats: { servers: server.url } })
  const secrets = Array.from({ length: 20 }, (_, i) => `s3cr3t-${i}-${Math.random().toString(36).slice(2)}`)
  for (const [i, secret] of secrets.entries()) {
    await node.put(`db/${i}`, { password: secret })
    await node.patch(`db/${i}`, [{ op: 'add', path: '/old', value: `${secret}-patched` }])
  }
  await caughtUp(node)
  await node.close()
  await server.stop()
  const written = [...secrets, ...secrets.map(s => `${s}-patched`)]
  t.same(await findPlaintext(storeDir, written), [], 'the JetStream store holds ciphertext only')
  t.same(await findPlaintext(dataDir, written), [], 'the replica holds ciphertext only')
  t.ok((await findPlaintext(storeDir, ['db.1'])).length > 0, 'the scan does see what the store holds (subjects are there)')
})
