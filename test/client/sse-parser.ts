import t from 'tap'
import { createSseParser } from '../../lib/client/sse-parser.js'
import type { SseEvent } from '../../lib/client/sse-parser.js'

interface Parsed {
  events: SseEvent[]
  retries: number[]
  comments: string[]
}

function parse (...chunks: Array<string | Uint8Array>): Parsed {
  const out: Parsed = { events: [], retries: [], comments: [] }
  const parser = createSseParser({
    onEvent: (e) => out.events.push(e),
    onRetry: (ms) => out.retries.push(ms),
    onComment: (c) => out.comments.push(c)
  })
  for (const chunk of chunks) parser.feed(chunk)
  return out
}

/** Every way of cutting `text` into two chunks gives the same events as one chunk. */
function splitsAgree (t: { same: (found: unknown, wanted: unknown, message: string) => boolean }, text: string): void {
  const whole = parse(text)
  for (let i = 0; i <= text.length; i++) {
    t.same(parse(text.slice(0, i), text.slice(i)), whole, `split at ${i}`)
  }
}

t.test('an event has its id, type and data; the type defaults to message', async (t) => {
  const { events } = parse('id: 7\nevent: put\ndata: {"seq":7}\n\ndata: x\n\n')
  t.same(events, [{ id: '7', event: 'put', data: '{"seq":7}' }, { id: '7', event: 'message', data: 'x' }])
})

t.test('data lines join with LF, and an empty data line counts', async (t) => {
  t.same(parse('data: a\ndata:\ndata:  b\n\n').events, [{ id: '', event: 'message', data: 'a\n\n b' }])
  t.same(parse('data\n\n').events, [{ id: '', event: 'message', data: '' }])
})

t.test('only one space after the colon is removed, and a field without a colon has an empty value', async (t) => {
  t.same(parse('data:no space\n\n').events[0]?.data, 'no space')
  t.same(parse('data:   three\n\n').events[0]?.data, '  three')
  t.same(parse('event\ndata: x\n\n').events[0]?.event, 'message')
  t.same(parse('data: a: b\n\n').events[0]?.data, 'a: b')
})

t.test('comments are reported and dispatch nothing', async (t) => {
  const out = parse(': heartbeat\n\n:\n\n')
  t.same(out.events, [])
  t.same(out.comments, [' heartbeat', ''])
})

t.test('CRLF, LF and lone CR all end lines', async (t) => {
  const expected = [{ id: '1', event: 'put', data: 'a\nb' }, { id: '2', event: 'delete', data: 'c' }]
  t.same(parse('id: 1\r\nevent: put\r\ndata: a\r\ndata: b\r\n\r\nid: 2\r\nevent: delete\r\ndata: c\r\n\r\n').events, expected)
  t.same(parse('id: 1\revent: put\rdata: a\rdata: b\r\rid: 2\revent: delete\rdata: c\r\r').events, expected)
  t.same(parse('id: 1\r\nevent: put\ndata: a\rdata: b\n\r\nid: 2\nevent: delete\rdata: c\r\n\n').events, expected)
})

t.test('any split into chunks gives the same events, including a CRLF cut in two', async (t) => {
  splitsAgree(t, 'id: 1\r\nevent: put\r\ndata: {"a":1}\r\n\r\n: hb\r\n\r\nid: 2\r\ndata: x\r\ndata: y\r\n\r\n')
  splitsAgree(t, 'retry: 300\ndata: a\r\rdata: b\n\n')
  t.same(parse('data: a\r', '\n', '\r', '\n').events, [{ id: '', event: 'message', data: 'a' }])
  t.same(parse('data: a\r', '\r').events, [{ id: '', event: 'message', data: 'a' }], 'CR then CR is two line ends')
})

t.test('bytes are decoded as UTF-8 across chunk boundaries', async (t) => {
  const bytes = new TextEncoder().encode('data: clé €\n\n')
  for (let i = 0; i <= bytes.length; i++) {
    t.same(parse(bytes.subarray(0, i), bytes.subarray(i)).events, [{ id: '', event: 'message', data: 'clé €' }], `split at byte ${i}`)
  }
})

t.test('a leading BOM is dropped, once', async (t) => {
  t.same(parse('\uFEFFdata: a\n\n').events, [{ id: '', event: 'message', data: 'a' }])
  t.same(parse(new Uint8Array([0xef, 0xbb, 0xbf]), 'data: a\n\n').events, [{ id: '', event: 'message', data: 'a' }])
  t.same(parse('\uFEFF', '\uFEFFdata: a\n\n').events, [], 'a second BOM makes the field name unknown')
})

t.test('the id holds across events, can be reset, and is ignored when it contains NUL', async (t) => {
  const { events } = parse('id: 5\ndata: a\n\ndata: b\n\nid: 6\0\ndata: c\n\nid\ndata: d\n\n')
  t.same(events.map((e) => e.id), ['5', '5', '5', ''])
})

t.test('an id or event without data dispatches nothing, and the event type does not carry over', async (t) => {
  const { events } = parse('id: 3\nevent: put\n\ndata: x\n\n')
  t.same(events, [{ id: '3', event: 'message', data: 'x' }])
})

t.test('retry takes ASCII digits only', async (t) => {
  t.same(parse('retry: 1500\n\nretry: 1.5\nretry: -1\nretry: 10x\nretry:\nretry: 20\n').retries, [1500, 20])
})

t.test('unknown fields are ignored', async (t) => {
  t.same(parse('foo: bar\nDATA: x\ndata: y\n\n').events, [{ id: '', event: 'message', data: 'y' }])
})

t.test('an event not ended by an empty line is never dispatched', async (t) => {
  t.same(parse('data: a\n\ndata: b\n').events, [{ id: '', event: 'message', data: 'a' }])
  t.same(parse('data: a').events, [])
})

t.test('handlers are optional apart from onEvent', async (t) => {
  const events: SseEvent[] = []
  const parser = createSseParser({ onEvent: (e) => events.push(e) })
  parser.feed(': c\nretry: 5\ndata: z\n\n')
  t.same(events, [{ id: '', event: 'message', data: 'z' }])
})
