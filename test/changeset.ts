/**
 * Changesets on a node: every change or none, at one sequence, each key at
 * its next version; a refusal names every key that failed; readers and
 * watchers never see part of one. Standalone (embedded log) and on a real
 * nats-server, the same behaviour.
 */
import t, { type Test } from 'tap'
import { ChangesetError } from '../lib/errors.js'
import type { ChangeEvent, CredregNode, NodeOptions } from '../lib/types.js'
import { startNatsServer } from './fixtures/nats-server.js'
import { newDataKey, snapshot, testNode } from './fixtures/nodes.js'

type Open = (t: Test, options?: Partial<NodeOptions> & { dataKey?: Uint8Array }) => Promise<CredregNode>

const nats = await startNatsServer()
t.teardown(async () => await nats.stop())

function backends (): Array<[string, Open]> {
  return [
    ['standalone', async (t, options = {}) => await testNode(t, { dataKey: newDataKey(), ...options })],
    ['nats', async (t, options = {}) => await testNode(t, { dataKey: newDataKey(), namespace: `cs${Math.random().toString(36).slice(2, 8)}`, nats: { servers: nats.url }, ...options })]
  ]
}

async function take (events: AsyncIterableIterator<ChangeEvent>, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = []
  while (out.length < n) {
    const next = await events.next()
    if (next.done === true) break
    out.push(next.value)
  }
  return out
}

t.test('changesets', async t => {
  for (const [name, open] of backends()) {
    t.test(`${name}: every key at its next version, at one sequence`, async t => {
      const node = await open(t)
      await node.put('db/user', { name: 'app' })
      await node.put('db/pass', { secret: 'old' })
      await node.put('db/old', { x: 1 })
      const watch = node.watch('db/')
      const result = await node.commit([
        { key: 'db/user', op: 'merge', patch: { name: 'app2' }, ifVersion: 1 },
        { key: 'db/pass', op: 'put', value: { secret: 'new' }, ifVersion: 1 },
        { key: 'db/old', op: 'delete' }
      ])
      t.match(result, { id: /^[0-9a-f-]{36}$/, seq: Number, correlationId: String })
      t.same(result.results, [{ key: 'db/user', version: 2, created: false }, { key: 'db/pass', version: 2, created: false }, { key: 'db/old', version: 2, created: false }])
      t.same((await node.get('db/user')).value, { name: 'app2' })
      t.same((await node.get('db/pass')).value, { secret: 'new' })
      await t.rejects(node.get('db/old'), { code: 'NOT_FOUND' })
      const events = await take(watch, 3)
      await watch.return?.()
      t.same(events.map(e => [e.key, e.seq, e.changeset]), [
        ['db/user', result.seq, { id: result.id, index: 0, size: 3 }],
        ['db/pass', result.seq, { id: result.id, index: 1, size: 3 }],
        ['db/old', result.seq, { id: result.id, index: 2, size: 3 }]
      ], 'one event per key, consecutive, at one sequence, each saying where it sits')
      t.same((await node.history('db/pass')).at(-1)?.changeset, { id: result.id, index: 1, size: 3 }, 'history says which changeset wrote a version')
      t.match(await node.put('db/pass', { secret: 'newer' }, { ifVersion: 2 }), { version: 3 }, 'a single write after a changeset builds on it')
      const replay = await take(node.watch('db/', { since: result.seq - 1 }), 4)
      t.same(replay.slice(0, 3).map(e => e.changeset?.index), [0, 1, 2], 'a replay from before it has the whole changeset, in order')
      t.equal(replay[3]?.version, 3)
      const after = await take(node.watch('db/', { since: result.seq }), 1)
      t.equal(after[0]?.key, 'db/pass', 'a replay from its sequence has none of it')
    })

    t.test(`${name}: a refused changeset names every key that failed and writes nothing`, async t => {
      const node = await open(t)
      await node.put('a', { n: 1 })
      await node.put('a', { n: 2 })
      await node.put('b', { n: 1 })
      const before = await snapshot(node)
      const err = await node.commit([
        { key: 'a', op: 'put', value: { n: 3 }, ifVersion: 1 },
        { key: 'b', op: 'put', value: { n: 2 }, ifVersion: 1 },
        { key: 'c', op: 'delete' },
        { key: 'd', op: 'put', value: { n: 1 }, ifVersion: 4 }
      ]).catch((e: unknown) => e)
      t.type(err, ChangesetError)
      t.match(err, { code: 'VERSION_CONFLICT', status: 412 })
      t.same((err as ChangesetError).failures.map(f => [f.key, f.code, f.expectedVersion, f.currentVersion]), [
        ['a', 'VERSION_CONFLICT', 1, 2],
        ['c', 'NOT_FOUND', undefined, undefined],
        ['d', 'VERSION_CONFLICT', 4, 0]
      ])
      const patchErr = await node.commit([
        { key: 'a', op: 'patch', ops: [{ op: 'test', path: '/n', value: 1 }] },
        { key: 'b', op: 'put', value: { n: 2 } }
      ]).catch((e: unknown) => e)
      t.match(patchErr, { code: 'PATCH_FAILED', failures: [{ key: 'a', code: 'PATCH_FAILED' }] })
      const missing = await node.commit([{ key: 'zz', op: 'merge', patch: { a: 1 } }]).catch((e: unknown) => e)
      t.match(missing, { code: 'NOT_FOUND', status: 404, failures: [{ key: 'zz', code: 'NOT_FOUND' }] })
      t.same(await snapshot(node), before, 'nothing was written')
    })

    t.test(`${name}: bad changesets are refused before anything is written`, async t => {
      const node = await open(t)
      const bad: Array<[string, unknown, string]> = [
        ['not an array', { key: 'a' }, 'BAD_REQUEST'],
        ['empty', [], 'BAD_REQUEST'],
        ['65 keys', Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, op: 'delete' })), 'BAD_REQUEST'],
        ['a key twice', [{ key: 'a', op: 'put', value: {} }, { key: 'a', op: 'delete' }], 'BAD_REQUEST'],
        ['an invalid key', [{ key: '../etc', op: 'put', value: {} }], 'INVALID_KEY'],
        ['an unknown op', [{ key: 'a', op: 'rename' }], 'BAD_REQUEST'],
        ['a put without a value', [{ key: 'a', op: 'put' }], 'INVALID_VALUE'],
        ['a put of an array', [{ key: 'a', op: 'put', value: [1] }], 'INVALID_VALUE'],
        ['a field of another op', [{ key: 'a', op: 'delete', value: {} }], 'BAD_REQUEST'],
        ['ifVersion and ifAbsent', [{ key: 'a', op: 'put', value: {}, ifVersion: 1, ifAbsent: true }], 'BAD_REQUEST'],
        ['a negative ifVersion', [{ key: 'a', op: 'put', value: {}, ifVersion: -1 }], 'BAD_REQUEST']
      ]
      for (const [what, changes, code] of bad) await t.rejects(node.commit(changes as never), { code }, what)
      await t.rejects(node.commit([{ key: 'a', op: 'put', value: {} }], { correlationId: 'nope' }), { code: 'BAD_REQUEST' }, 'a correlation id that is not a uuid')
      const large = await node.commit([{ key: 'a', op: 'put', value: { x: 'y'.repeat(40_000) } }, { key: 'b', op: 'put', value: { x: 'y'.repeat(40_000) } }]).catch((e: unknown) => e)
      t.match(large, { code: 'VALUE_TOO_LARGE', message: /split it/ }, 'values together larger than one record may take')
      t.same((await node.list()).items, [], 'nothing was written')
    })

    t.test(`${name}: ifAbsent creates, a changeset survives a reopen`, async t => {
      const dataKey = newDataKey()
      const node = await open(t, { dataKey })
      const r = await node.commit([{ key: 'x', op: 'put', value: { a: 1 }, ifAbsent: true }, { key: 'y', op: 'put', value: { b: 1 }, ifVersion: 0 }])
      t.same(r.results.map(x => x.created), [true, true])
      await t.rejects(node.commit([{ key: 'x', op: 'put', value: { a: 2 }, ifAbsent: true }]), { code: 'VERSION_CONFLICT' })
      t.match(await node.delete('x'), { version: 2 })
      t.match(await node.commit([{ key: 'x', op: 'put', value: { a: 3 }, ifAbsent: true }]), { results: [{ version: 3, created: true }] }, 'a deleted key is absent')
    })
  }
})
