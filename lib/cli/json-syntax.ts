/**
 * Why a text is not JSON, told without quoting it. V8's `JSON.parse` message
 * quotes the input around the fault, and what a user types as a value is
 * often a secret: this finds the first fault itself and says where it is
 * (line, column) and what kind it is, never what the text there holds.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const HEX4 = /^[0-9A-Fa-f]{4}$/

type Want = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'after'

/** The first syntax fault of `text` as `<kind> at line L, column C`, or `undefined` if it is JSON. */
export function jsonSyntaxFault (text: string): string | undefined {
  const fault = (at: number, kind: string): string => {
    const before = text.slice(0, at)
    const line = before.split('\n').length
    return `${kind} at line ${line}, column ${at - before.lastIndexOf('\n')}`
  }
  // Containers open around the current position: a stack, so any depth is safe.
  const open: Array<'{' | '['> = []
  let want: Want = 'value'
  let i = 0
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++
    if (i >= text.length) return want === 'after' && open.length === 0 ? undefined : fault(i, 'unexpected end of input')
    const c = text[i] as string
    if (want === 'after') {
      const inside = open.at(-1)
      if (inside === undefined) return fault(i, 'unexpected text after the JSON document')
      if (c === ',') want = inside === '{' ? 'key' : 'value'
      else if (c === (inside === '{' ? '}' : ']')) open.pop()
      else return fault(i, inside === '{' ? 'expected , or } in an object' : 'expected , or ] in an array')
      i++
      continue
    }
    // An empty object or array closing at once.
    if ((want === 'key-or-close' && c === '}') || (want === 'value-or-close' && c === ']')) {
      open.pop()
      want = 'after'
      i++
      continue
    }
    if (want === 'key' || want === 'key-or-close') {
      if (c !== '"') return fault(i, 'expected a property name in double quotes')
      const end = stringEnd(text, i)
      if (end.fault !== undefined) return fault(end.at, end.fault)
      i = end.at
      while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++
      if (i >= text.length) return fault(i, 'unexpected end of input')
      if (text[i] !== ':') return fault(i, 'expected : after a property name')
      want = 'value'
      i++
      continue
    }
    // A value.
    want = 'after'
    if (c === '{' || c === '[') {
      open.push(c)
      want = c === '{' ? 'key-or-close' : 'value-or-close'
      i++
    } else if (c === '"') {
      const end = stringEnd(text, i)
      if (end.fault !== undefined) return fault(end.at, end.fault)
      i = end.at
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      if (NUMBER.exec(text) === null) return fault(i, 'invalid number')
      i = NUMBER.lastIndex
    } else {
      const literal = ['true', 'false', 'null'].find(word => text.startsWith(word, i))
      if (literal === undefined) return fault(i, 'unexpected character where a value should be')
      i += literal.length
    }
  }
}

/** Where the string starting at `start` ends (just past its closing quote), or what is wrong inside it and where. */
function stringEnd (text: string, start: number): { at: number, fault?: string } {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x22) return { at: i + 1 }
    if (code < 0x20) return { at: i, fault: 'control character in a string' }
    if (code === 0x5c) {
      const escape = text[i + 1]
      if (escape === 'u' && HEX4.test(text.slice(i + 2, i + 6))) i += 5
      else if (escape !== undefined && ESCAPES.has(escape)) i++
      else return { at: i, fault: 'invalid escape in a string' }
    }
  }
  return { at: start, fault: 'unterminated string' }
}
