import t from 'tap'
import { applyJsonPatch, applyMergePatch } from '../lib/patch.js'
import { isJsonObject } from '../lib/value.js'
import { conformanceFile, readJson, SKIP_NO_SHARED } from './fixtures/shared.js'

interface Vector { comment?: string, doc: unknown, patch: unknown, expected?: unknown, error?: string, disabled?: boolean }

for (const file of ['tests.json', 'spec_tests.json']) {
  const path = conformanceFile('json-patch-tests', file)
  t.test(`RFC 6902 conformance vectors: ${file}`, { skip: path === undefined ? SKIP_NO_SHARED : false }, async t => {
    const vectors = await readJson<Vector[]>(path as string)
    let ran = 0
    for (const [i, v] of vectors.entries()) {
      // Entities are JSON objects: only vectors on an object document apply.
      if (v.disabled === true || !isJsonObject(v.doc)) continue
      ran++
      const name = `#${i} ${v.comment ?? v.error ?? ''}`.trim()
      const before = JSON.stringify(v.doc)
      const shouldFail = v.error !== undefined || (v.expected !== undefined && !isJsonObject(v.expected))
      if (shouldFail) {
        t.throws(() => applyJsonPatch(v.doc as Record<string, unknown>, v.patch), { code: 'PATCH_FAILED' }, name)
      } else if (v.expected !== undefined) {
        t.same(applyJsonPatch(v.doc as Record<string, unknown>, v.patch), v.expected, name)
      } else {
        t.doesNotThrow(() => applyJsonPatch(v.doc as Record<string, unknown>, v.patch), name)
      }
      t.equal(JSON.stringify(v.doc), before, `${name}: the input document is untouched`)
    }
    t.ok(ran > 0, `${ran} vectors applied`)
  })
}

t.test('a failing test op is PATCH_FAILED and does not leak the document', async t => {
  const doc = { password: 'hunter2', n: 1 }
  try {
    applyJsonPatch(doc, [{ op: 'test', path: '/n', value: 2 }, { op: 'replace', path: '/n', value: 3 }])
    t.fail('applied')
  } catch (err) {
    t.match(err, { code: 'PATCH_FAILED' })
    t.notMatch((err as Error).message, /hunter2/)
  }
  t.same(doc, { password: 'hunter2', n: 1 })
})

t.test('patches that are not arrays of ops, or leave no object, are refused', async t => {
  t.throws(() => applyJsonPatch({}, { op: 'add' }), { code: 'PATCH_FAILED' })
  t.throws(() => applyJsonPatch({}, [{ op: 'bogus', path: '/a' }]), { code: 'PATCH_FAILED' })
  t.throws(() => applyJsonPatch({}, [{ op: 'replace', path: '', value: [1] }]), { code: 'PATCH_FAILED' })
  t.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]), { code: 'PATCH_FAILED' })
})

t.test('RFC 7396 merge patch', async t => {
  // The examples of RFC 7396 appendix A whose target and result are objects.
  t.same(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' })
  t.same(applyMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' })
  t.same(applyMergePatch({ a: 'b' }, { a: null }), {})
  t.same(applyMergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' })
  t.same(applyMergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' })
  t.same(applyMergePatch({ a: 'c' }, { a: ['b'] }), { a: ['b'] })
  t.same(applyMergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } })
  t.same(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] })
  t.same(applyMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 })
  t.same(applyMergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } })
  const doc = { a: { b: 1 } }
  applyMergePatch(doc, { a: { b: 2 } })
  t.same(doc, { a: { b: 1 } }, 'the target is untouched')
  t.throws(() => applyMergePatch({}, ['x']), { code: 'PATCH_FAILED' })
  t.throws(() => applyMergePatch({}, null), { code: 'PATCH_FAILED' })
})
