import { once } from 'node:events'
import { EventSource } from 'eventsource'
import t from 'tap'
import { Agent, fetch as undiciFetch, request } from 'undici'
import type { ChangeEvent } from '../../lib/types.js'
import { startDaemon, type DaemonProcess } from '../fixtures/daemon.js'
import { eventually } from '../fixtures/eventually.js'
import { openSse } from '../fixtures/sse-reader.js'

const daemon = await startDaemon({ args: ['--sse-heartbeat-ms', '200', '--history', '3'] })
t.teardown(() => daemon.stop())
const agent = new Agent({ connect: { socketPath: daemon.socket } })
t.teardown(() => agent.close())

/** An EventSource over the daemon's socket that records the Last-Event-ID of each connection and can hold reconnections. */
function watch (path: string, via = agent): { es: EventSource, events: MessageEvent[], lastEventIds: Array<string | undefined>, hold: () => void, release: () => void } {
  const events: MessageEvent[] = []
  const lastEventIds: Array<string | undefined> = []
  let gate: Promise<void> = Promise.resolve()
  let open = (): void => {}
  const es = new EventSource(`http://localhost${path}`, {
    fetch: async (input, init) => {
      await gate
      lastEventIds.push((init?.headers as Record<string, string> | undefined)?.['Last-Event-ID'])
      return await undiciFetch(input as string, { ...init as object, dispatcher: via }) as unknown as Response
    }
  })
  for (const type of ['put', 'patch', 'delete', 'resync']) es.addEventListener(type, e => events.push(e))
  return {
    es,
    events,
    lastEventIds,
    hold: () => { gate = new Promise(resolve => { open = resolve }) },
    release: () => open()
  }
}

async function put (d: DaemonProcess, key: string, value: object): Promise<number> {
  const res = await d.request('PUT', `/v1/entities/${key}`, { body: value })
  if (res.status >= 300) throw new Error(`put ${key}: ${res.text}`)
  return res.json.version as number
}

const data = (e: MessageEvent): ChangeEvent => JSON.parse(e.data as string) as ChangeEvent

/** `res` with its body ending after the event that holds `marker`: what a client sees when the connection is lost there. */
function cutAfter (res: Awaited<ReturnType<typeof undiciFetch>>, marker: string): Response {
  const upstream = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  let text = ''
  let passed = 0
  const body = new ReadableStream<Uint8Array>({
    async pull (controller) {
      const { done, value } = await upstream.read()
      if (done) return controller.close()
      text += decoder.decode(value, { stream: true })
      const at = text.indexOf(marker)
      const end = at === -1 ? -1 : text.indexOf('\n\n', at)
      controller.enqueue(encoder.encode(text.slice(passed, end === -1 ? undefined : end + 2)))
      passed = text.length
      if (end === -1) return
      controller.close()
      await upstream.cancel()
    }
  })
  return new Response(body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? '' } })
}

t.test('each event has id = seq, event = op and the change event as data', async t => {
  const w = watch('/v1/watch?prefix=sse/a&since=0')
  t.teardown(() => w.es.close())
  await put(daemon, 'sse/a', { n: 1 })
  await daemon.request('PATCH', '/v1/entities/sse/a', { headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ n: 2 }) })
  await daemon.request('DELETE', '/v1/entities/sse/a')
  await put(daemon, 'other/key', { ignored: true })
  await eventually(() => w.events.length >= 3, 'three events')
  t.same(w.events.map(e => e.type), ['put', 'patch', 'delete'])
  for (const e of w.events) t.equal(e.lastEventId, String(data(e).seq))
  t.match(data(w.events[0]!), { key: 'sse/a', version: 1, prevVersion: 0, op: 'put', value: { n: 1 }, meta: { op: 'put' } })
  t.match(data(w.events[1]!), { version: 2, op: 'patch', value: { n: 2 }, patch: [{ op: 'replace', path: '/n', value: 2 }] })
  t.match(data(w.events[2]!), { version: 3, op: 'delete' })
  t.notOk('value' in data(w.events[2]!))
})

t.test('Last-Event-ID resumes exactly like since', async t => {
  const v = await put(daemon, 'sse/b', { n: 1 })
  await put(daemon, 'sse/b', { n: v + 1 })
  await put(daemon, 'sse/b', { n: v + 2 })
  const history = (await daemon.request('GET', '/v1/history/sse/b')).json.versions as Array<{ seq: number }>
  const from = history[0]!.seq
  const read = async (headers: Record<string, string>, query: string, count = 2): Promise<number[]> => {
    const res = await request(`http://localhost/v1/watch?prefix=sse/b${query}`, { dispatcher: agent, headers })
    t.match(res.headers['content-type'], /^text\/event-stream/)
    const ids: number[] = []
    let text = ''
    for await (const chunk of res.body) {
      text += String(chunk)
      ids.splice(0, ids.length, ...[...text.matchAll(/^id: (\d+)$/gm)].map(m => Number(m[1])))
      if (ids.length >= count) break
    }
    res.body.destroy()
    return ids
  }
  const byHeader = await read({ 'last-event-id': String(from) }, '')
  const byQuery = await read({}, `&since=${from}`)
  t.same(byHeader, [history[1]!.seq, history[2]!.seq])
  t.same(byQuery, byHeader)
  const both = await read({ 'last-event-id': String(history[1]!.seq) }, `&since=${from}`, 1)
  t.equal(both[0], history[2]!.seq, 'Last-Event-ID wins over since: it is where a reconnecting client really is')
})

t.test('a resync event (retention no longer reaches back) carries no id, so it never moves the resume point', async t => {
  for (let n = 1; n <= 5; n++) await put(daemon, 'sse/c', { n })
  const res = await request('http://localhost/v1/watch?prefix=sse/c&since=0', { dispatcher: agent })
  let text = ''
  for await (const chunk of res.body) {
    text += String(chunk)
    if (text.includes('event: resync')) break
  }
  res.body.destroy()
  const block = /(?:^|\n\n)((?:[^\n]+\n)*?event: resync\ndata: [^\n]*)/.exec(text)?.[1] ?? ''
  t.notMatch(block, /^id:/m)
  t.match(JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}'), { op: 'resync', key: 'sse/c', version: 5, value: { n: 5 } })
})

/** Commits a changeset of a put to each of `keys`; resolves with its sequence. */
async function commit (d: DaemonProcess, keys: string[]): Promise<number> {
  const res = await d.request('POST', '/v1/changesets', { body: { changes: keys.map(key => ({ key, op: 'put', value: { key } })) } })
  if (res.status !== 201) throw new Error(`commit: ${res.text}`)
  return res.json.seq as number
}

t.test('the events of a changeset share its seq, and only the last carries the id', async t => {
  const w = watch('/v1/watch?prefix=sse/cs/&since=0')
  t.teardown(() => w.es.close())
  const first = await put(daemon, 'sse/cs/before', { n: 1 })
  t.equal(first, 1)
  const seq = await commit(daemon, ['sse/cs/a', 'sse/cs/b', 'sse/cs/c'])
  await eventually(() => w.events.length >= 4, 'four events')
  const before = data(w.events[0]!).seq
  t.same(w.events.map(e => [data(e).seq, data(e).key, data(e).changeset?.index]), [
    [before, 'sse/cs/before', undefined], [seq, 'sse/cs/a', 0], [seq, 'sse/cs/b', 1], [seq, 'sse/cs/c', 2]
  ])

  const raw = await openSse(agent, `/v1/watch?prefix=sse/cs/&since=${before - 1}`)
  const events = await raw.read(events => events.length >= 4)
  raw.close()
  t.same(events.map(e => e.id), [before, undefined, undefined, seq], 'no id line but on the last event of the changeset')
})

t.test('an EventSource cut off inside a changeset reconnects from the sequence before it and gets the whole changeset again', async t => {
  await put(daemon, 'sse/es/before', { n: 1 })
  const before = (await daemon.request('GET', '/v1/status')).json.appliedSeq as number
  const seq = await commit(daemon, ['sse/es/a', 'sse/es/b', 'sse/es/c'])
  const lastEventIds: Array<string | undefined> = []
  let connections = 0
  const es = new EventSource(`http://localhost/v1/watch?prefix=sse/es/&since=${before - 1}`, {
    fetch: async (input, init) => {
      lastEventIds.push((init?.headers as Record<string, string> | undefined)?.['Last-Event-ID'])
      const res = await undiciFetch(input as string, { ...init as object, dispatcher: agent })
      // The first connection ends right after the changeset's first event, as a lost connection would.
      return ++connections === 1 ? cutAfter(res, '"index":0') : res as unknown as Response
    }
  })
  t.teardown(() => es.close())
  const events: MessageEvent[] = []
  es.addEventListener('put', e => events.push(e))
  await eventually(() => events.length >= 5, 'the changeset again after the cut')
  t.same(events.map(e => [data(e).seq, data(e).key]), [
    [before, 'sse/es/before'], [seq, 'sse/es/a'], /* cut */ [seq, 'sse/es/a'], [seq, 'sse/es/b'], [seq, 'sse/es/c']
  ], 'the change delivered before the cut comes again (the client library drops it by its place)')
  t.same(lastEventIds, [undefined, String(before)], 'the reconnection sent the last complete sequence, not the changeset\'s')
})

t.test('a client cut off inside a changeset resumes with its last event id and gets the whole changeset again', async t => {
  const before = (await daemon.request('GET', '/v1/status')).json.appliedSeq as number
  await put(daemon, 'sse/cut/x', { n: 1 })
  const seq = await commit(daemon, ['sse/cut/a', 'sse/cut/b', 'sse/cut/c'])
  const first = await openSse(agent, `/v1/watch?prefix=sse/cut/&since=${before}`)
  const read = await first.read(events => events.some(e => e.data.changeset !== undefined))
  first.close()
  // The client handled the changeset's first event, then the connection was lost: its last event id is the
  // id of the last event that had one (the SSE rule), whatever else the chunk it read held.
  const handled = read.slice(0, read.findIndex(e => e.data.changeset !== undefined) + 1)
  const lastEventId = handled.findLast(e => e.id !== undefined)?.id
  t.equal(lastEventId, seq - 1, 'the sequence before the changeset')
  const resumed = await openSse(agent, '/v1/watch?prefix=sse/cut/', { 'last-event-id': String(lastEventId) })
  const again = await resumed.read(events => events.length >= 3)
  resumed.close()
  t.same(again.map(e => [e.data.seq, e.data.key, e.data.changeset?.index]), [[seq, 'sse/cut/a', 0], [seq, 'sse/cut/b', 1], [seq, 'sse/cut/c', 2]],
    'the whole changeset, from its first change')
})

t.test('a comment heartbeat keeps an idle stream alive', async t => {
  const res = await request('http://localhost/v1/watch?prefix=idle/', { dispatcher: agent })
  let text = ''
  for await (const chunk of res.body) {
    text += String(chunk)
    if (/^: heartbeat/m.test(text)) break
  }
  res.body.destroy()
  t.match(text, /^retry: \d+$/m)
  t.match(text, /^: heartbeat /m)
})

t.test('the watcher gauge counts open streams', async t => {
  const w = watch('/v1/watch?prefix=gauge/')
  t.teardown(() => w.es.close())
  await once(w.es, 'open')
  t.match((await daemon.request('GET', '/metrics')).text, /credreg_watchers [1-9]/)
})

t.test('an EventSource resumes with Last-Event-ID across a daemon restart: nothing lost, nothing repeated', async t => {
  const d = await startDaemon()
  t.teardown(() => d.stop())
  const own = new Agent({ connect: { socketPath: d.socket } })
  t.teardown(() => own.close())
  const w = watch('/v1/watch?prefix=r/', own)
  t.teardown(() => w.es.close())
  await once(w.es, 'open')
  await put(d, 'r/1', { n: 1 })
  await put(d, 'r/2', { n: 2 })
  await eventually(() => w.events.length === 2, 'the first two events')

  w.hold()
  await d.restart()
  // Written while the client is away: only a resume from Last-Event-ID can deliver these.
  await put(d, 'r/3', { n: 3 })
  await put(d, 'r/4', { n: 4 })
  w.release()
  await eventually(() => w.events.length >= 4, 'the events written while away')
  await put(d, 'r/5', { n: 5 })
  await eventually(() => w.events.length >= 5, 'a live event after the resume')

  t.same(w.events.map(e => data(e).key), ['r/1', 'r/2', 'r/3', 'r/4', 'r/5'])
  const seqs = w.events.map(e => data(e).seq)
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'in log order')
  t.equal(new Set(seqs).size, 5, 'no duplicate')
  t.equal(w.lastEventIds[0], undefined)
  t.equal(w.lastEventIds.at(-1), String(seqs[1]), 'the reconnection sent the last id seen')
})
