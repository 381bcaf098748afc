import t from 'tap'
import { versionAt } from '../../lib/peers/key-versions.js'

// A key written at sequences 10 (v1), 20 (v2), 35 (v3, a delete counts as a version).
const full = [{ version: 1, seq: 10 }, { version: 2, seq: 20 }, { version: 3, seq: 35 }]
// The same key with history cut to its last two versions.
const cut = full.slice(1)

const cases: Array<[string, typeof full, number, number | null]> = [
  ['a key never written', [], 100, 0],
  ['applied before the key was first written', full, 9, 0],
  ['applied exactly the first write', full, 10, 1],
  ['between two writes', full, 19, 1],
  ['at the second write', full, 20, 2],
  ['past the latest write', full, 1000, 3],
  ['history cut: between retained versions', cut, 25, 2],
  ['history cut: behind the oldest retained version', cut, 15, null],
  ['history cut: before the key existed, which cannot be told apart', cut, 5, null]
]

t.test('the version a node holds follows from the sequence it applied', async t => {
  for (const [name, history, applied, expected] of cases) t.equal(versionAt(history, applied), expected, name)
})
