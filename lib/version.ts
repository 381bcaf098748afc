/**
 * The credreg version, read once from the package's own package.json (found
 * by walking up from this file, so it works from lib/ and from dist/lib/).
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/** The `version` of the credreg package, or `0.0.0` when its package.json cannot be found. */
export function credregVersion (): string {
  cached ??= find()
  return cached
}

function find (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'credreg' && typeof pkg.version === 'string') return pkg.version
    } catch {}
    const parent = dirname(dir)
    if (parent === dir) return '0.0.0'
    dir = parent
  }
}
