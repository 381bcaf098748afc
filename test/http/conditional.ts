import t from 'tap'
import { parseIfMatch } from '../../lib/http/conditional.js'

t.test('If-Match is * or a list of entity tags, compared strongly (RFC 9110)', async t => {
  t.equal(parseIfMatch(undefined), undefined)
  t.same(parseIfMatch('*'), { any: true })
  t.same(parseIfMatch(' * '), { any: true })
  t.same(parseIfMatch('"3"'), { versions: [3] })
  t.same(parseIfMatch('"3", "4"'), { versions: [3, 4] })
  t.same(parseIfMatch('"3",\t"4" ,"3",'), { versions: [3, 4] }, 'optional whitespace, repeats and empty elements')
})

t.test('a weak tag never matches, nor a tag that is no ETag of ours: they leave no version', async t => {
  t.same(parseIfMatch('W/"3"'), { versions: [] })
  t.same(parseIfMatch('W/"3", "4"'), { versions: [4] })
  t.same(parseIfMatch('"abc", "03", "0", "a,b"'), { versions: [] }, 'well-formed, but never one of our ETags')
})

t.test('a malformed If-Match is BAD_REQUEST and does not quote the header', async t => {
  for (const header of ['3', '', ' ', ',', '"3" "4"', 'W/ "3"', 'w/"3"', '"3', '*, "3"', '"s3cr\\"et"', 'hunter2']) {
    t.throws(() => parseIfMatch(header), { code: 'BAD_REQUEST', message: /^If-Match must be \* or a list of quoted ETags/ }, JSON.stringify(header))
  }
  try {
    parseIfMatch('hunter2')
  } catch (err) {
    t.notMatch((err as Error).message, /hunter2/)
  }
})
