import t from 'tap'
import { IgnoredMessages } from '../../lib/peers/ignored-messages.js'

t.test('a flood of ignored messages is counted one by one but logged as one debug line per 10 s', async t => {
  let now = 0
  const lines: Array<{ level: string, obj: object }> = []
  const log = (level: string) => (obj: object) => { lines.push({ level, obj }) }
  const counted: string[] = []
  const ignored = new IgnoredMessages({
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    count: (kind, reason) => counted.push(`${kind} ${reason}`),
    now: () => now
  })
  for (let i = 0; i < 20_000; i++) {
    ignored.note('heartbeat', i % 2 === 0 ? 'forged' : 'malformed')
    now += 1
  }
  t.equal(counted.length, 20_000, 'every one counted')
  t.equal(lines.length, 2, 'one line at the start, one 10 s later')
  t.ok(lines.every(l => l.level === 'debug'))
  t.same(lines[1]?.obj, { ignored: { 'heartbeat malformed': 5000, 'heartbeat forged': 5000 } }, 'what was ignored in between')
})
