/**
 * The command line shared by the runner and each standalone scenario:
 * `--quick` (tiny sizes), `--only a,b` (some scenarios), `--out file` (where
 * the results go). Prints the report on stdout, writes the results file, and
 * sets a failing exit code when a scenario failed.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { progress } from './progress.js'
import { report } from './report.js'
import type { Results } from './results.js'
import type { Scenario } from './scenario.js'
import { runSuite } from './suite.js'

/** Where results go without `--out`, by mode; standalone scenarios write none. */
export interface DefaultOut { full: string, quick: string }

/** Runs `scenarios` (filtered by `--only`) and writes the results to `--out`, else to the default of the mode. */
export async function main (scenarios: Scenario[], defaultOut?: DefaultOut): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' } }
  })
  const only = values.only?.split(',').map(s => s.trim()).filter(Boolean)
  const unknown = only?.filter(id => !scenarios.some(s => s.id === id)) ?? []
  if (unknown.length > 0) throw new TypeError(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map(s => s.id).join(', ')}`)
  const chosen = only === undefined ? scenarios : scenarios.filter(s => only.includes(s.id))
  const out = values.out ?? defaultOut?.[values.quick ? 'quick' : 'full']
  const save = async (results: Results): Promise<void> => {
    if (out === undefined) return
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(results, null, 2) + '\n')
  }
  const results = await runSuite(chosen, values.quick, save)
  await save(results)
  if (out !== undefined) progress(`results written to ${out}`)
  process.stdout.write(report(results))
  if (results.rows.some(r => r.status === 'error')) process.exitCode = 1
}

/** Runs `scenario` alone when its module is the entry point (`node --import tsx benchmarks/<id>.bench.ts`). */
export async function runIfMain (meta: ImportMeta, scenario: Scenario): Promise<void> {
  if (process.argv[1] !== undefined && meta.filename === process.argv[1]) await main([scenario])
}
