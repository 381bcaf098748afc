/**
 * A small parser for `text/event-stream`, following the WHATWG HTML "event
 * stream interpretation": lines end with CRLF, LF or CR (also when a CRLF is
 * split across chunks); a leading BOM is dropped; `:` starts a comment; one
 * optional space after the field's colon is removed; `data` lines join with
 * LF; `id` holds across events and is ignored when it contains NUL; `retry`
 * takes ASCII digits only; an empty line dispatches; an unfinished event at
 * the end of the stream is discarded.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The last event id seen on the stream ('' when none), as the spec's `lastEventId`. */
  id: string
  /** The `event` field, `message` when absent. */
  event: string
  /** The `data` lines joined with LF. */
  data: string
}

/** What the parser reports. */
export interface SseHandlers {
  onEvent: (event: SseEvent) => void
  /** A valid `retry` field, in milliseconds. */
  onRetry?: (ms: number) => void
  /** A comment line, without its leading colon. */
  onComment?: (text: string) => void
}

/** Feeds chunks of a stream to a parser; one parser per connection. */
export interface SseParser {
  /** Parses a chunk; bytes are decoded as UTF-8 across chunk boundaries. */
  feed: (chunk: string | Uint8Array) => void
}

/** Creates a parser for one event stream. */
export function createSseParser (handlers: SseHandlers): SseParser {
  return new EventStreamParser(handlers)
}

class EventStreamParser implements SseParser {
  readonly #handlers: SseHandlers
  readonly #decoder = new TextDecoder('utf-8')
  #started = false
  // The unfinished line carried over from the last chunk.
  #pending = ''
  // The last chunk ended in CR: a LF opening the next one belongs to that line end.
  #skipLf = false
  #lastEventId = ''
  #eventType = ''
  #data = ''

  constructor (handlers: SseHandlers) {
    this.#handlers = handlers
  }

  feed (chunk: string | Uint8Array): void {
    this.#feedText(typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }))
  }

  /** Splits text into lines at CRLF, LF or CR, across chunk boundaries. */
  #feedText (text: string): void {
    if (text === '') return
    let buf = this.#pending + text
    if (!this.#started) {
      this.#started = true
      if (buf.startsWith('\uFEFF')) buf = buf.slice(1)
    }
    let start = 0
    if (this.#skipLf && buf.startsWith('\n')) start = 1
    this.#skipLf = false
    for (let i = start; i < buf.length; i++) {
      const c = buf.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.#line(buf.slice(start, i))
      if (c === 13) {
        if (i + 1 === buf.length) this.#skipLf = true
        else if (buf.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.#pending = buf.slice(start)
  }

  /** Interprets one line: a blank line dispatches, a colon starts a comment, anything else is a field. */
  #line (text: string): void {
    if (text === '') {
      if (this.#data !== '') this.#handlers.onEvent({ id: this.#lastEventId, event: this.#eventType === '' ? 'message' : this.#eventType, data: this.#data.slice(0, -1) })
      this.#data = ''
      this.#eventType = ''
      return
    }
    if (text.startsWith(':')) {
      this.#handlers.onComment?.(text.slice(1))
      return
    }
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    this.#field(field, value)
  }

  #field (field: string, value: string): void {
    switch (field) {
      case 'event':
        this.#eventType = value
        break
      case 'data':
        this.#data += value + '\n'
        break
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value
        break
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#handlers.onRetry?.(Number(value))
        break
    }
  }
}
