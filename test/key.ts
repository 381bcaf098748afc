import t from 'tap'
import { assertKey, keyProblem, keyToSubjectTokens, subjectTokensToKey, assertNamespace, assertPrefix } from '../lib/key.js'
import { isCredregError } from '../lib/errors.js'

t.test('valid keys are accepted', async t => {
  for (const key of ['a', 'svc/db/password', 'A-Z_a.z/0-9', 'x'.repeat(256), 'a/.b/c.', '...a', '-/_/x']) {
    t.equal(keyProblem(key), undefined, key)
  }
})

t.test('invalid keys are INVALID_KEY errors that say why', async t => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /empty/], ['*', /may only contain/], ['>', /may only contain/], ['a/*/b', /may only contain/],
    ['..', /\.\. segment/], ['a/../b', /\.\. segment/], ['./a', /\. or \.\. segment/], ['a b', /may only contain/],
    ['x'.repeat(257), /256 bytes/], ['/a', /start or end/], ['a/', /start or end/], ['a//b', /empty segment/],
    ['é', /may only contain/], ['a\0b', /may only contain/], [42, /must be a string/], [undefined, /must be a string/]
  ]
  for (const [key, why] of cases) {
    try {
      assertKey(key)
      t.fail(`accepted ${JSON.stringify(key)}`)
    } catch (err) {
      t.ok(isCredregError(err, 'INVALID_KEY'), `${JSON.stringify(key)} is INVALID_KEY`)
      t.match((err as Error).message, why)
    }
  }
})

t.test('keys map to subject tokens injectively and reversibly, never to wildcards', async t => {
  const keys = ['a.b', 'a_d', 'a_b', 'a__b', 'a/b', 'a._', '_.', '._', '_d', 'a.d', 'a_dd', 'x/y.z/_w_', '...', '___']
  const seen = new Map<string, string>()
  for (const key of keys) {
    const tokens = keyToSubjectTokens(key)
    t.match(tokens, /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, `${key} → ${tokens}`)
    t.notOk(seen.has(tokens), `${tokens} is the image of one key only`)
    seen.set(tokens, key)
    t.equal(subjectTokensToKey(tokens), key, `${tokens} maps back to ${key}`)
  }
  t.equal(keyToSubjectTokens('svc/db.prod/pass_1'), 'svc.db_dprod.pass__1')
})

t.test('subjects that are not the image of a valid key map to no key', async t => {
  for (const tokens of ['', 'a..b', 'a_x', 'a_', '*', '>', 'a.*', '_d_d', 'a b']) {
    t.equal(subjectTokensToKey(tokens), undefined, JSON.stringify(tokens))
  }
})

t.test('namespaces and prefixes are checked', async t => {
  t.doesNotThrow(() => assertNamespace('prod-eu_1'))
  for (const ns of ['', 'a.b', 'a*', 'x'.repeat(65), 7]) t.throws(() => assertNamespace(ns), { code: 'INVALID_CONFIG' })
  for (const p of ['', 'svc/', 'svc/d', 'a.b']) t.doesNotThrow(() => assertPrefix(p))
  for (const p of ['*', 'a b', 'x'.repeat(300), null]) t.throws(() => assertPrefix(p), { code: 'INVALID_KEY' })
})
