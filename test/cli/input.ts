import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { readJson } from '../../lib/cli/input.js'
import { jsonSyntaxFault } from '../../lib/cli/json-syntax.js'
import { runMain } from '../fixtures/cli.js'

const SECRET = 'hunter2-Sup3rS3cret'

/** The error `readJson` fails with for `text` given as an argument. */
async function parseError (text: string): Promise<Error> {
  try {
    await readJson({ text }, new PassThrough(), 'value')
  } catch (err) {
    return err as Error
  }
  throw new Error('parsed')
}

t.test('a value that is not JSON is BAD_REQUEST saying where and why, never quoting the text', async t => {
  const cases: Array<[string, RegExp]> = [
    [`{"password":${SECRET}}`, /unexpected character where a value should be at line 1, column 13$/],
    [`{"password":"${SECRET}"`, /unexpected end of input at line 1, column 34$/],
    [`{"password":"${SECRET}`, /unterminated string at line 1, column 13$/],
    [`{\n  "user": "app",\n  "password": "${SECRET}" "x"\n}`, /expected , or } in an object at line 3, column 37$/],
    [`{${SECRET}: 1}`, /expected a property name in double quotes at line 1, column 2$/],
    [`{"password" "${SECRET}"}`, /expected : after a property name at line 1, column 13$/],
    [`["${SECRET}\\q"]`, /invalid escape in a string at line 1, column 22$/],
    [`["${SECRET}\t"]`, /control character in a string at line 1, column 22$/],
    [`{"a":[1, -${SECRET}]}`, /invalid number at line 1, column 10$/],
    ['{"a":[1 2]}', /expected , or \] in an array at line 1, column 9$/],
    [`{"a":1} ${SECRET}`, /unexpected text after the JSON document at line 1, column 9$/],
    [SECRET, /unexpected character where a value should be at line 1, column 1$/],
    ['', /unexpected end of input at line 1, column 1$/]
  ]
  for (const [text, where] of cases) {
    const err = await parseError(text)
    t.match(err, { code: 'BAD_REQUEST', message: /^the value is not valid JSON: / }, JSON.stringify(text))
    t.match(err.message, where, JSON.stringify(text))
    t.notOk(err.message.includes(SECRET) || err.message.includes('hunter2'), 'the message does not quote the text')
    t.equal(err.cause, undefined, 'nor does a cause carry it')
  }
})

t.test('the fault finder agrees with JSON.parse on valid and broken documents', async t => {
  const valid = ['{}', '[]', '0', '-1.5e+3', '"a\\u00e9\\n"', 'true', ' null ', '{"a":[1,{"b":[]},"c"],"d":{}}', '[[[[[[]]]]]]', '{"":""}']
  for (const text of valid) t.equal(jsonSyntaxFault(text), undefined, text)
  // Every prefix and every one-character deletion of a document: where JSON.parse fails, a fault is found.
  const doc = '{"a": [1, -2.5e3, true, null, "x\\"y"], "b": {"c": false}}'
  let broken = 0
  const variants = [...Array.from({ length: doc.length }, (_, i) => doc.slice(0, i)), ...Array.from({ length: doc.length }, (_, i) => doc.slice(0, i) + doc.slice(i + 1))]
  for (const text of variants) {
    let parses = true
    try { JSON.parse(text) } catch { parses = false }
    t.equal(jsonSyntaxFault(text) === undefined, parses, text)
    if (!parses) broken++
  }
  t.ok(broken > 50)
  t.match(jsonSyntaxFault('['.repeat(100_000)), /unexpected end of input/, 'any depth')
})

t.test('the CLI reports a malformed value from an argument, a file or stdin without echoing it', async t => {
  const dir = t.testdir()
  const file = join(dir, 'value.json')
  await writeFile(file, `{\n  "password": "${SECRET}\n}\n`)
  const socket = join(dir, 'none.sock')
  for (const [args, input] of [[['put', 'a/k', `{"password":${SECRET}}`]], [['put', 'a/k', '--file', file]], [['put', 'a/k', '-'], `{"password": ${SECRET}`], [['--json', 'patch', 'a/k', `[{"op":"add","path":"/p","value":${SECRET}}]`]]] as Array<[string[], string?]>) {
    const res = await runMain(args, { socket, ...(input !== undefined ? { input } : {}) })
    t.equal(res.code, 2, args.join(' '))
    t.match(res.stderr, /not valid JSON: .* at line \d+, column \d+/)
    t.notOk(res.stderr.includes('hunter2') || res.stdout.includes('hunter2'), `${args.join(' ')}: the secret is not echoed`)
  }
})
