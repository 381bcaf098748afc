/**
 * The environment of `credreg exec`: `NAME=KEY#/json/pointer` references and
 * an optional env-file template (`NAME=value` lines), resolved from the keys'
 * values. Incomplete while a key or a pointer is missing.
 */
import { CredregError } from '../errors.js'
import { isPointer, resolvePointer } from '../json-pointer.js'
import { assertKey } from '../key.js'
import type { JsonObject } from '../types.js'
import type { CompiledTemplate } from './template.js'

/** One `--env NAME=KEY#/pointer`. */
export interface EnvRef {
  name: string
  key: string
  pointer: string
}

/** Parses `NAME=KEY#/pointer` (the pointer may be left out: the whole value, as JSON); `BAD_REQUEST` when malformed. */
export function parseEnvRef (spec: string): EnvRef {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^#]+)(?:#(.*))?$/.exec(spec)
  if (match === null) throw new CredregError('BAD_REQUEST', `--env takes NAME=KEY#/json/pointer, got ${JSON.stringify(spec)}`)
  const [, name, key, pointer = ''] = match as unknown as [string, string, string, string | undefined]
  assertKey(key)
  if (!isPointer(pointer)) throw new CredregError('BAD_REQUEST', `--env ${name}: ${JSON.stringify(pointer)} is not a JSON pointer (it starts with /)`)
  return { name, key, pointer }
}

/** The environment, or what is still missing. */
export type EnvResult = { env: Record<string, string> } | { missing: string[] }

/** Resolves `refs` and the env-file `template` against `values`. */
export async function resolveEnv (refs: EnvRef[], template: CompiledTemplate | undefined, values: ReadonlyMap<string, JsonObject>): Promise<EnvResult> {
  const env: Record<string, string> = {}
  const missing: string[] = []
  if (template !== undefined) {
    try {
      Object.assign(env, parseEnvLines(await template.render(values)))
    } catch (err) {
      if (!(err instanceof CredregError) || err.code !== 'NOT_FOUND') throw err
      missing.push(err.message)
    }
  }
  for (const ref of refs) {
    const value = values.get(ref.key)
    const found = value === undefined ? { found: false } : resolvePointer(value, ref.pointer)
    if (!found.found) missing.push(`${ref.key}#${ref.pointer}`)
    else env[ref.name] = typeof found.value === 'string' ? found.value : JSON.stringify(found.value)
  }
  return missing.length > 0 ? { missing } : { env }
}

/** `NAME=value` lines; blank lines and `#` comments skipped; a value in double or single quotes loses them. */
export function parseEnvLines (text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (match === null) throw new CredregError('INVALID_CONFIG', `env file line ${i + 1}: expected NAME=value`)
    const [, name, value] = match as unknown as [string, string, string]
    env[name] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value
  }
  return env
}
