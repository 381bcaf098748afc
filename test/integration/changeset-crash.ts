/**
 * A node SIGKILLed while it applies changesets, writing them or catching up
 * over thousands of them: on disk, every changeset of the log is in its
 * replica whole (each version still retained there, as the changeset's) up
 * to the applied sequence, and not at all beyond it; reopened, it catches up
 * with the others.
 */
import t, { type Test } from 'tap'
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Level } from 'level'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { streamName, transactionSubjectPrefix } from '../../lib/log/jetstream-log.js'
import { openNode } from '../../lib/node.js'
import { Replica } from '../../lib/replica/replica.js'
import type { Db } from '../../lib/replica/store.js'
import type { CredregNode } from '../../lib/types.js'
import { spawnTs } from '../fixtures/child.js'
import { startNatsServer, type NatsServer } from '../fixtures/nats-server.js'
import { caughtUp, newDataKey, snapshot, tempDir, testNode } from '../fixtures/nodes.js'
import { replicaKeys } from '../fixtures/record-keys.js'

const childScript = fileURLToPath(new URL('../fixtures/changeset-child.ts', import.meta.url))
const NAMESPACE = 'default'
const DEPTH = 10
const BACKLOG = 3_000

/** A changeset as the log holds it: where, and which version of which key it writes. */
interface LoggedChangeset { seq: number, id: string, changes: Array<{ key: string, version: number }> }

/** Every changeset in the stream, in order (values stay sealed: only keys and versions are read). */
async function changesetsInLog (server: NatsServer): Promise<LoggedChangeset[]> {
  const nc = await connect({ servers: server.url })
  try {
    const last = (await (await jetstreamManager(nc)).streams.info(streamName(NAMESPACE))).state.last_seq
    const consumer = await jetstream(nc).consumers.get(streamName(NAMESPACE), { deliver_policy: DeliverPolicy.All })
    const out: LoggedChangeset[] = []
    if (last === 0) return out
    for await (const m of await consumer.consume()) {
      if (m.subject.startsWith(transactionSubjectPrefix(NAMESPACE))) {
        const record = m.json<{ id: string, changes: Array<{ key: string, version: number }> }>()
        out.push({ seq: m.seq, id: record.id, changes: record.changes.map(({ key, version }) => ({ key, version })) })
      }
      if (m.seq >= last) break
    }
    return out
  } finally {
    await nc.close()
  }
}

/**
 * What a replica left on disk holds of each changeset of the log: every
 * version (each still retained, as written by it) up to its applied sequence,
 * nothing beyond; and its own bookkeeping agrees with itself.
 */
async function checkOnDisk (t: Test, dir: string, dataKey: Buffer, logged: LoggedChangeset[]): Promise<number> {
  const db: Db = new Level<string, string>(join(dir, 'replica'))
  await db.open()
  try {
    const replica = new Replica({ db, namespace: NAMESPACE, ...replicaKeys(dataKey), historyDepth: DEPTH })
    await replica.load()
    const applied = replica.appliedSeq
    const problems: string[] = []
    let whole = 0
    for (const c of logged) {
      const states = await Promise.all(c.changes.map(async ({ key, version }, index) => {
        const entity = await replica.store.entities.get(key)
        const stored = await replica.storedVersion(key, version)
        if (stored !== undefined) return stored.changeset?.id === c.id && stored.changeset.index === index && stored.seq === c.seq ? 'held' : 'other'
        // Not held: pruned (older than the oldest version retained) or never applied.
        return entity !== undefined && version < (entity.retained[0]?.[0] ?? 0) ? 'pruned' : 'absent'
      }))
      const show = `changeset at seq ${c.seq} (${states.map((s, i) => `${c.changes[i]?.key} v${c.changes[i]?.version} ${s}`).join(', ')})`
      if (c.seq <= applied && states.some(s => s === 'absent' || s === 'other')) problems.push(`applied through ${applied}, but not all of ${show}`)
      if (c.seq > applied && states.some(s => s !== 'absent')) problems.push(`applied through ${applied}, but part of ${show}`)
      if (c.seq <= applied) whole++
    }
    for await (const [key, entity] of replica.store.entities.iterator()) {
      const history = await replica.storedHistory(key)
      if (history.at(-1)?.version !== entity.version) problems.push(`${key}: the newest history entry is not the entity`)
      if (entity.seq > applied) problems.push(`${key}: version ${entity.version} at seq ${entity.seq}, beyond the applied ${applied}`)
      if (JSON.stringify(history.map(h => h.changeset === undefined ? [h.version, h.seq] : [h.version, h.seq, h.changeset.index])) !== JSON.stringify(entity.retained)) {
        problems.push(`${key}: the history does not match the retained index`)
      }
    }
    t.same(problems, [], `on disk: applied through ${applied}, ${whole} changesets whole, the ${logged.length - whole} after none at all`)
    return applied
  } finally {
    await db.close()
  }
}

/** Spawns the child in `mode`; resolves with its stdout lines once `enough` says so. */
async function runChild (t: Test, env: Record<string, string>, enough: (lines: string[]) => boolean): Promise<string[]> {
  const child = spawnTs(childScript, [], env)
  t.teardown(() => { child.kill('SIGKILL') })
  const lines: string[] = []
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit')
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      lines.push(...parts)
      if (enough(lines)) resolve()
    })
    child.once('exit', code => { reject(new Error(`the child exited early (${String(code)}): ${stderr}`)) })
  })
  child.kill('SIGKILL')
  await exited
  return lines
}

t.test('a node SIGKILLed while it commits changesets holds each of them whole or not at all, and catches up', async t => {
  const server = await startNatsServer()
  t.teardown(async () => { await server.stop() })
  const dataKey = newDataKey()
  const dir = await tempDir(t)
  const other = await testNode(t, { dataKey, nats: { servers: server.url } })
  const acknowledged = await runChild(t, { DATA_DIR: dir, DATA_KEY: dataKey.toString('hex'), NATS_URL: server.url, MODE: 'write' }, lines => lines.length >= 300)
  t.ok(acknowledged.length >= 300, `killed after ${acknowledged.length} acknowledged changesets`)
  // Changesets go on elsewhere while the crashed node is down.
  for (let i = 0; i < 50; i++) await other.commit([{ key: `crash/${i % 25}`, op: 'merge', patch: { after: i } }, { key: `crash/${(i + 1) % 25}`, op: 'merge', patch: { after: i } }])

  await checkOnDisk(t, dir, dataKey, await changesetsInLog(server))
  const reopened = await testNode(t, { dataDir: dir, dataKey, nats: { servers: server.url } })
  await Promise.all([caughtUp(reopened), caughtUp(other)])
  t.same(await snapshot(reopened), await snapshot(other), 'caught up to the same state and history')
  const lost: string[] = []
  for (const line of acknowledged) {
    const [, id, ...changes] = line.split(' ')
    for (const change of changes) {
      const [key, version] = change.split(':') as [string, string]
      const entry = (await reopened.history(key)).find(h => h.version === Number(version))
      if ((await reopened.get(key)).version < Number(version) || (entry !== undefined && entry.changeset?.id !== id)) lost.push(`${key} v${version} of ${id}`)
    }
  }
  t.same(lost, [], 'every acknowledged changeset is there')
})

t.test('a node SIGKILLed again and again while it catches up over 3,000 changesets holds each whole or not at all, and catches up', async t => {
  const server = await startNatsServer()
  t.teardown(async () => { await server.stop() })
  const dataKey = newDataKey()
  const dir = await tempDir(t)
  const writer = await testNode(t, { dataKey, nats: { servers: server.url } })
  await writer.put('crash/0', { start: true })
  const sleeper: CredregNode = await openNode({ dataDir: dir, dataKey, nats: { servers: server.url } })
  await caughtUp(sleeper)
  await sleeper.close()
  for (let i = 0; i < BACKLOG; i++) {
    const keys = [...new Set([i % 25, (i * 7 + 3) % 25, (i * 11 + 5) % 25])].map(k => `crash/${k}`)
    await writer.commit(keys.map(key => ({ key, op: 'put' as const, value: { i, pad: 'x'.repeat(500) } })))
  }
  const { appliedSeq: last } = await writer.nodeStatus()
  const logged = await changesetsInLog(server)
  t.equal(logged.length, BACKLOG, 'every changeset is in the log')

  const env = { DATA_DIR: dir, DATA_KEY: dataKey.toString('hex'), NATS_URL: server.url, MODE: 'follow' }
  let midway = 0
  let previous = 0
  for (const [round, target] of [500, 1_500, 2_500].entries()) {
    // Killed as soon as it reports having applied past the target: there are more to go.
    await runChild(t, env, lines => lines.some(line => Number(line.split(' ')[1]) >= target))
    const applied = await checkOnDisk(t, dir, dataKey, logged)
    t.ok(applied >= previous, `round ${round + 1}: killed at applied sequence ${applied} of ${last}`)
    if (applied > previous && applied < last) midway++
    previous = applied
  }
  t.ok(midway > 0, `killed midway through the catch-up ${midway} times`)
  const reopened = await testNode(t, { dataDir: dir, dataKey, nats: { servers: server.url } })
  await caughtUp(reopened, 60_000)
  t.same(await snapshot(reopened), await snapshot(writer), 'caught up to the same state and history')
})
