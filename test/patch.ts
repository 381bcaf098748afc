import t from 'tap'
import { applyJsonPatch, applyMergePatch, MAX_PATCH_OPS } from '../lib/patch.js'
import type { PatchOperation } from '../lib/types.js'
import { MAX_VALUE_DEPTH } from '../lib/value.js'
import { patchConformance } from './fixtures/patch-suite.js'

patchConformance(t, async (kind, doc, patch) => {
  const apply = kind === 'json-patch' ? applyJsonPatch : applyMergePatch
  try {
    return { value: apply(doc, patch) }
  } catch (error) {
    return { error, after: doc }
  }
})

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

/** An object nesting `levels` objects: `{ a: { a: … {} } }`. */
function nested (levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {}
  for (let i = 1; i < levels; i++) value = { a: value }
  return value
}

t.test(`a JSON Patch holds at most ${MAX_PATCH_OPS} operations, counted before any is applied`, async t => {
  const ops = (n: number): PatchOperation[] => Array.from({ length: n }, (_, i) => ({ op: 'add', path: `/k${i}`, value: i }))
  t.equal(Object.keys(applyJsonPatch({}, ops(MAX_PATCH_OPS))).length, MAX_PATCH_OPS)
  t.throws(() => applyJsonPatch({}, ops(MAX_PATCH_OPS + 1)), { code: 'PATCH_FAILED', message: /at most 1000 operations/ })
  // The last op is malformed: nothing before it is even tried.
  t.throws(() => applyJsonPatch({}, [{ op: 'test', path: '/x', value: 1 }, { op: '_get', path: '/x' }]), { code: 'PATCH_FAILED', message: /operation 1 / })
})

t.test('a copy or move into its own subtree is refused: the copy bomb answers at once', async t => {
  // 40 copies of the document into itself: 1 KiB of patch, 2^40 times the document.
  const bomb = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '', path: `/a${i}` }))
  t.throws(() => applyJsonPatch({ x: 1 }, bomb), { code: 'PATCH_FAILED', message: /operation 0 \(copy\) would put a value inside itself/ })
  t.throws(() => applyJsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/a/c' }]), { code: 'PATCH_FAILED' })
  t.throws(() => applyJsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/c' }]), { code: 'PATCH_FAILED' })
  t.throws(() => applyJsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '', path: '/a/c' }]), { code: 'PATCH_FAILED' })
  t.same(applyJsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/ab' }]), { a: { b: 1 }, ab: { b: 1 } }, '/a is not an ancestor of /ab')
  t.same(applyJsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a/b', path: '/a/c' }]), { a: { b: 1, c: 1 } }, 'a copy beside its source')
  t.same(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }]), { a: 1 }, 'a move onto itself changes nothing')
})

t.test('a patch that grows the value past maxValueBytes is VALUE_TOO_LARGE at the op that does it, and only then', async t => {
  // Copies between siblings double the value every two ops without copying into themselves.
  const doubling: PatchOperation[] = [{ op: 'add', path: '/a', value: { s: 'x' } }, { op: 'add', path: '/b', value: {} }]
  for (let i = 0; i < 998; i++) doubling.push(i % 2 === 0 ? { op: 'copy', from: '/b', path: `/a/k${i}` } : { op: 'copy', from: '/a', path: `/b/k${i}` })
  t.throws(() => applyJsonPatch({}, doubling), { code: 'VALUE_TOO_LARGE', message: /^operation \d\d? would make the value at least \d+ bytes serialized; the limit is 65536$/ })
  t.throws(() => applyJsonPatch({}, doubling, { maxValueBytes: 1024, key: 'k' }), { code: 'VALUE_TOO_LARGE', key: 'k', message: /the limit is 1024$/ })
  const copies: PatchOperation[] = [{ op: 'add', path: '/a', value: 'x'.repeat(1000) }]
  for (let i = 0; i < 999; i++) copies.push({ op: 'copy', from: '/a', path: `/c${i}` })
  t.throws(() => applyJsonPatch({}, copies), { code: 'VALUE_TOO_LARGE' })
  t.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value: 'x'.repeat(2000) }], { maxValueBytes: 1024 }), { code: 'VALUE_TOO_LARGE' })

  // The bound is an upper one, made exact when it passes the limit: a result within the limit always applies.
  const big = { a: 'x'.repeat(60_000), b: 1 }
  const replaces: PatchOperation[] = Array.from({ length: 50 }, (_, i) => ({ op: 'replace', path: '/a', value: String(i).repeat(60_000 / String(i).length) }))
  t.equal((applyJsonPatch(big, replaces).a as string).length, 60_000)
  const swaps: PatchOperation[] = []
  for (let i = 0; i < 20; i++) swaps.push({ op: 'remove', path: '/a' }, { op: 'add', path: '/a', value: 'y'.repeat(60_000) }, { op: 'move', from: '/a', path: '/c' }, { op: 'move', from: '/c', path: '/a' })
  t.equal((applyJsonPatch(big, swaps).a as string)[0], 'y')
  t.same(applyJsonPatch(big, [{ op: 'add', path: '/x', value: 1 }], { maxValueBytes: 60_020 }).x, 1, 'exactly at the limit')
})

t.test(`values and results nest at most ${MAX_VALUE_DEPTH} levels`, async t => {
  t.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value: nested(10_000) }]), { code: 'PATCH_FAILED', message: /more than 64 levels/ })
  t.same(applyJsonPatch({}, [{ op: 'add', path: '/a', value: nested(MAX_VALUE_DEPTH - 1) }]).a, nested(MAX_VALUE_DEPTH - 1))
  t.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value: nested(MAX_VALUE_DEPTH) }]), { code: 'VALUE_TOO_LARGE', message: /more than 64 levels/ })
  const deep = { a: nested(40), b: nested(30) }
  t.throws(() => applyJsonPatch(deep, [{ op: 'copy', from: '/a', path: `/b${'/a'.repeat(29)}/x` }]), { code: 'VALUE_TOO_LARGE' }, 'a copy deep into another subtree')
})

t.test(`a merge patch nests at most ${MAX_VALUE_DEPTH} levels and its result is bounded too`, async t => {
  // Ten thousand levels would overflow the stack of a recursive merge.
  t.throws(() => applyMergePatch({}, nested(10_000)), { code: 'PATCH_FAILED', message: /more than 64 levels/ })
  t.same(applyMergePatch({}, nested(MAX_VALUE_DEPTH)), nested(MAX_VALUE_DEPTH))
  t.throws(() => applyMergePatch({ a: 'x'.repeat(1000) }, { b: 'y'.repeat(1000) }, { maxValueBytes: 1500, key: 'k' }), { code: 'VALUE_TOO_LARGE', key: 'k' })
})
