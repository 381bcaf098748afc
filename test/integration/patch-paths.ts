/**
 * Every path that applies a patch runs the shared vectors (the library's own
 * run is test/patch.ts): a node's patch and merge, and a daemon's PATCH route.
 * Patches built to exhaust the daemon are refused at once, and it stays responsive.
 */
import t from 'tap'
import { errorFromJSON } from '../../lib/errors.js'
import type { JsonObject } from '../../lib/types.js'
import { startDaemon, type Answer } from '../fixtures/daemon.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'
import { patchConformance } from '../fixtures/patch-suite.js'

t.setTimeout(120_000)

const PATCH_TYPES = { 'json-patch': 'application/json-patch+json', 'merge-patch': 'application/merge-patch+json' } as const

t.test('through a node: patch and merge', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  let n = 0
  patchConformance(t, async (kind, doc, patch) => {
    const key = `vectors/${n++}`
    await node.put(key, doc)
    try {
      await (kind === 'json-patch' ? node.patch(key, patch as never) : node.merge(key, patch as never))
      return { value: (await node.get(key)).value as JsonObject }
    } catch (error) {
      const entity = await node.get(key)
      return { error, after: entity.version === 1 ? entity.value as JsonObject : { writtenAs: entity.version } }
    }
  })
})

t.test('through the daemon: PATCH /v1/entities/{key}', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  let n = 0
  patchConformance(t, async (kind, doc, patch) => {
    const path = `/v1/entities/vectors/${n++}`
    await daemon.request('PUT', path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) })
    const res = await daemon.request('PATCH', path, { headers: { 'content-type': PATCH_TYPES[kind] }, body: JSON.stringify(patch) })
    const entity = (await daemon.request('GET', path)).json
    if (res.status < 300) return { value: entity.value }
    return { error: errorFromJSON(res.json, res.status), after: entity.version === 1 ? entity.value : { writtenAs: entity.version } }
  })
})

/** JSON text of an object nesting `levels` objects: `{"a":{"a":…{}}}` (too deep for JSON.stringify to write). */
function nested (levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1)
}

t.test('patches built to exhaust the daemon are refused at once, change nothing, and it keeps answering', async t => {
  const daemon = await startDaemon()
  t.teardown(() => daemon.stop())
  const path = '/v1/entities/bounded/k'
  await daemon.request('PUT', path, { body: { x: 1 } })
  const patch = async (kind: keyof typeof PATCH_TYPES, body: unknown): Promise<Answer> =>
    await daemon.request('PATCH', path, { headers: { 'content-type': PATCH_TYPES[kind] }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const stillServing = async (what: string): Promise<void> => {
    const read = await daemon.request('GET', path)
    t.match(read, { status: 200, json: { version: 1, value: { x: 1 } } }, `${what}: the daemon answers and the value is unchanged`)
  }

  const bomb = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '', path: `/a${i}` }))
  t.match(await patch('json-patch', bomb), { status: 422, json: { code: 'PATCH_FAILED' } }, 'forty copies of the document into itself')
  await stillServing('the copy bomb')

  const doubling: unknown[] = [{ op: 'add', path: '/a', value: { s: 'x' } }, { op: 'add', path: '/b', value: {} }]
  for (let i = 0; i < 998; i++) doubling.push(i % 2 === 0 ? { op: 'copy', from: '/b', path: `/a/k${i}` } : { op: 'copy', from: '/a', path: `/b/k${i}` })
  t.match(await patch('json-patch', doubling), { status: 413, json: { code: 'VALUE_TOO_LARGE' } }, 'copies doubling the value between siblings')
  await stillServing('the doubling copies')

  const many = Array.from({ length: 1001 }, () => ({ op: 'test', path: '/x', value: 1 }))
  t.match(await patch('json-patch', many), { status: 422, json: { code: 'PATCH_FAILED', message: /at most 1000 operations/ } }, '1001 operations')

  // Ten thousand levels fit in the body limit (60 KB) and would overflow a recursive merge.
  t.match(await patch('merge-patch', nested(10_000)), { status: 422, json: { code: 'PATCH_FAILED', message: /levels/ } }, 'a merge patch 10,000 levels deep')
  t.match(await patch('json-patch', `[{"op":"add","path":"/d","value":${nested(10_000)}}]`), { status: 422, json: { code: 'PATCH_FAILED' } }, 'an op value 10,000 levels deep')
  t.match(await daemon.request('PUT', path, { headers: { 'content-type': 'application/json' }, body: nested(10_000) }),
    { status: 413, json: { code: 'VALUE_TOO_LARGE', message: /levels/ } }, 'a value 10,000 levels deep')
  await stillServing('the deep inputs')
})
