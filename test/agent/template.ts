/**
 * lib/agent/template.ts: the keys a template reads are known before it runs;
 * anything but `secret["literal/key"]` is refused at compile time, a missing
 * key or field fails the render, and no template reads a file.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { isCredregError } from '../../lib/errors.js'
import { compileTemplate } from '../../lib/agent/template.js'
import type { JsonObject } from '../../lib/types.js'

const values = (entries: Record<string, JsonObject>): Map<string, JsonObject> => new Map(Object.entries(entries))

/** Whether compiling `source` or rendering it with `data` fails with `code`, and the message. */
async function failure (source: string, data: Map<string, JsonObject> = new Map()): Promise<{ code: string, message: string } | undefined> {
  try {
    await compileTemplate(source, 'x.tpl').render(data)
    return undefined
  } catch (err) {
    if (!isCredregError(err)) throw err
    return { code: err.code, message: err.message }
  }
}

t.test('the keys read are extracted once each, sorted, from outputs, tags and branches', async t => {
  const template = compileTemplate([
    '{{ secret["svc/b"].user }}:{{ secret["svc/b"].password }}',
    '{% if secret["svc/a"].enabled %}{{ secret["svc/c"].host | upcase }}{% endif %}',
    '{% for s in secret["svc/d"].list %}{{ s }},{% endfor %}',
    '{% assign p = secret["svc/e"].port %}{{ p }}'
  ].join('\n'), 'x.tpl')
  t.same(template.keys, ['svc/a', 'svc/b', 'svc/c', 'svc/d', 'svc/e'])
  t.equal(template.name, 'x.tpl')
  const out = await template.render(values({
    'svc/a': { enabled: true },
    'svc/b': { user: 'u', password: 'p' },
    'svc/c': { host: 'db' },
    'svc/d': { list: [1, 2] },
    'svc/e': { port: 5432 }
  }))
  t.equal(out, 'u:p\nDB\n1,2,\n5432')
})

t.test('a template without keys reads none and renders as is', async t => {
  const template = compileTemplate('static {{ "text" | upcase }}\n', 'x.tpl')
  t.same(template.keys, [])
  t.equal(await template.render(new Map()), 'static TEXT\n')
})

t.test('a key without a value and a field the value lacks fail with NOT_FOUND, naming them', async t => {
  t.match(await failure('{{ secret["a/b"].x }}'), { code: 'NOT_FOUND', message: /no key a\/b/ })
  t.match(await failure('{{ secret["a/b"].x }}', values({ 'a/b': { y: 1 } })), { code: 'NOT_FOUND', message: /missing field/ })
  t.match(await failure('{{ secret["a/b"].x.deep }}', values({ 'a/b': { x: {} } })), { code: 'NOT_FOUND' })
})

t.test('inherited properties are not fields', async t => {
  t.match(await failure('{{ secret["a/b"].constructor }}', values({ 'a/b': { x: 1 } })), { code: 'NOT_FOUND' })
})

t.test('a key that is not a literal, another variable, a bad key or bad syntax is refused at compile time', async t => {
  const cases: Array<[string, RegExp]> = [
    ['{% assign k = "a/b" %}{{ secret[k].x }}', /literal key/],
    ['{{ secret[secret["a/b"].name].x }}', /literal key|unknown variable/],
    ['{{ env.HOME }}', /unknown variable env/],
    ['{{ secret["bad key"].x }}', /may only contain/],
    ['{{ secret["a/b"].x ', /x\.tpl/],
    ['{% if %}', /x\.tpl/]
  ]
  for (const [source, message] of cases) {
    t.throws(() => compileTemplate(source, 'x.tpl'), { code: 'INVALID_CONFIG', message }, source)
  }
})

t.test('an unknown filter is refused', async t => {
  t.match(await failure('{{ secret["a/b"].x | no_such_filter }}', values({ 'a/b': { x: 1 } })), { code: 'INVALID_CONFIG', message: /no_such_filter/ })
})

t.test('include, render and layout read no file, even one that exists', async t => {
  const dir = t.testdir()
  const partial = join(dir, 'partial.liquid')
  await writeFile(partial, 'LEAKED')
  for (const tag of ['include', 'render', 'layout']) {
    const result = await failure(`{% ${tag} "${partial}" %}`)
    t.ok(result !== undefined, `${tag} fails`)
    t.equal(result?.code, 'INVALID_CONFIG', tag)
    t.notMatch(result?.message ?? '', /LEAKED/, `${tag} does not show the file`)
  }
})
