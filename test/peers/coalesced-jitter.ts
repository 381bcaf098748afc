import t from 'tap'
import { CoalescedJitter, type JitterClock } from '../../lib/peers/coalesced-jitter.js'

/** A clock whose time moves only when told, running due timers as it goes. */
function fakeClock (randoms: number[]): JitterClock & { advance: (ms: number) => void } {
  let now = 0
  let next = 0
  const timers = new Map<number, { at: number, fn: () => void }>()
  return {
    now: () => now,
    random: () => randoms.shift() ?? 0.5,
    setTimeout: (fn, ms) => { timers.set(++next, { at: now + ms, fn }); return next },
    clearTimeout: handle => { timers.delete(handle as number) },
    advance (ms) {
      const end = now + ms
      for (;;) {
        const due = [...timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (due === undefined) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn()
      }
      now = end
    }
  }
}

t.test('a burst of requests runs the action once, at a random point of the window', async t => {
  const clock = fakeClock([0.3])
  const runs: number[] = []
  const jitter = new CoalescedJitter(1000, () => runs.push(clock.now()), clock)
  for (let i = 0; i < 500; i++) jitter.request()
  t.ok(jitter.pending)
  clock.advance(299)
  t.same(runs, [], 'not yet')
  clock.advance(5000)
  t.same(runs, [300], 'once, 0.3 of the window in')
})

t.test('requests right after a run wait until a window has passed since it', async t => {
  const clock = fakeClock([0.9, 0.0, 0.0])
  const runs: number[] = []
  const jitter = new CoalescedJitter(1000, () => runs.push(clock.now()), clock)
  jitter.request()
  clock.advance(900)
  jitter.request()
  clock.advance(10_000)
  jitter.request()
  clock.advance(10_000)
  t.same(runs, [900, 1900, 10_900], 'never two runs less than a window apart')
})

t.test('hosts answering one newcomer spread over the window', async t => {
  const runs = [0.05, 0.5, 0.95].map(r => {
    const clock = fakeClock([r])
    let ran = -1
    new CoalescedJitter(200, () => { ran = clock.now() }, clock).request()
    clock.advance(200)
    return ran
  })
  t.same(runs, [10, 100, 190])
})

t.test('close cancels a scheduled run and ignores later requests', async t => {
  const clock = fakeClock([0.5])
  let runs = 0
  const jitter = new CoalescedJitter(1000, () => { runs++ }, clock)
  jitter.request()
  jitter.close()
  jitter.request()
  clock.advance(5000)
  t.equal(runs, 0)
  t.notOk(jitter.pending)
})
