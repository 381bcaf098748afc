/**
 * Templates of `credreg render` and `credreg agent`: LiquidJS with strict
 * variables and filters, no file system (no include, render or layout), and
 * one variable, `secret`, indexed by literal register keys
 * (`{{ secret["app/db"].password }}`), so the keys a template reads are known
 * before it runs.
 */
import { Liquid, type Template } from 'liquidjs'
import { CredregError } from '../errors.js'
import { assertKey } from '../key.js'
import type { JsonObject } from '../types.js'

/** A parsed template and the register keys it reads. */
export interface CompiledTemplate {
  /** Where it came from, for messages. */
  readonly name: string
  /** The register keys it reads, sorted, each once. */
  readonly keys: readonly string[]
  /**
   * Renders it with `values` (each key's current value). A key without a value
   * or a field the value lacks rejects with `NOT_FOUND`.
   */
  render: (values: ReadonlyMap<string, JsonObject>) => Promise<string>
}

/** Refuses every file the engine would read: a template is one self-contained file. */
const noFiles = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file: string) => { throw new Error(`templates read no files (${file})`) },
  readFileSync: (file: string) => { throw new Error(`templates read no files (${file})`) },
  resolve: (_dir: string, file: string) => file,
  contains: async () => false,
  sep: '/'
}

const engine = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  fs: noFiles,
  relativeReference: false,
  cache: false
})

/** Parses `source`; a syntax error or a data reference other than `secret["literal/key"]` throws `INVALID_CONFIG`. */
export function compileTemplate (source: string, name: string): CompiledTemplate {
  let parsed: Template[]
  let keys: string[]
  try {
    parsed = engine.parse(source, name)
    keys = referencedKeys(engine.globalVariableSegmentsSync(parsed), name)
  } catch (err) {
    if (err instanceof CredregError) throw err
    throw new CredregError('INVALID_CONFIG', `template ${name}: ${(err as Error).message}`, { cause: err })
  }
  const render = async (values: ReadonlyMap<string, JsonObject>): Promise<string> => {
    const secret: Record<string, JsonObject> = Object.create(null)
    for (const key of keys) {
      const value = values.get(key)
      if (value === undefined) throw new CredregError('NOT_FOUND', `template ${name}: no key ${key}`, { key })
      secret[key] = value
    }
    try {
      return await engine.render(parsed, { secret })
    } catch (err) {
      const message = (err as Error).message
      if ((err as Error).name === 'UndefinedVariableError') {
        throw new CredregError('NOT_FOUND', `template ${name}: ${message.replace(/^undefined variable: secret\./, 'missing field ')}`, { cause: err })
      }
      throw new CredregError('INVALID_CONFIG', `template ${name}: ${message}`, { cause: err })
    }
  }
  return { name, keys, render }
}

/** The keys of `secret[...]` references; anything else a template reads from outside is refused. */
function referencedKeys (segments: Array<Array<string | number | unknown[]>>, name: string): string[] {
  const keys = new Set<string>()
  for (const path of segments) {
    const [root, key] = path
    if (root !== 'secret') throw new CredregError('INVALID_CONFIG', `template ${name}: unknown variable ${String(root)}: a template reads keys as secret["app/db"]`)
    if (typeof key !== 'string') throw new CredregError('INVALID_CONFIG', `template ${name}: secret must be indexed with a literal key, as secret["app/db"].field`)
    try {
      assertKey(key)
    } catch (err) {
      throw new CredregError('INVALID_CONFIG', `template ${name}: ${(err as Error).message}`, { cause: err })
    }
    keys.add(key)
  }
  return [...keys].sort()
}
