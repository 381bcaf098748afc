/**
 * Runs scenarios in one environment and assembles the results: rows, the
 * machine they ran on, the targets. A scenario that fails leaves an `error`
 * row and the run goes on; `save` gets the results so far after each
 * scenario, so a long run that is stopped keeps what it measured.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { startEnv, type BenchEnv } from './env.js'
import { progress } from './progress.js'
import { EVERY_SCENARIO, SYSTEMS, type Results, type Row } from './results.js'
import { missingRow } from './rows.js'
import type { Scenario } from './scenario.js'
import { judgeTargets } from './targets.js'

export async function runSuite (scenarios: Scenario[], quick: boolean, save: (results: Results) => Promise<void>): Promise<Results> {
  const started = performance.now()
  const date = new Date().toISOString()
  const loadBefore = loadavg()[0] as number
  const env = await startEnv(quick)
  const rows: Row[] = []
  const load: Results['load'] = {}
  const assemble = (): Results => results(env, rows, { date, quick, loadBefore, load, durationSec: (performance.now() - started) / 1000 })
  try {
    for (const scenario of scenarios) {
      progress(`${scenario.id}: start`)
      const loadAtStart = loadavg()[0] as number
      const mine: Row[] = []
      try {
        await scenario.run(env, mine)
      } catch (err) {
        // Systems are measured in SYSTEMS order: the first one without a row is the one that failed.
        const system = (scenario.id === 'get' ? SYSTEMS : EVERY_SCENARIO).find(s => !mine.some(r => r.system === s)) ?? 'credreg node'
        mine.push(missingRow(scenario.id, system, 'error', (err as Error).stack ?? String(err)))
        progress(`${scenario.id}: FAILED: ${(err as Error).message}`)
      }
      rows.push(...mine)
      load[scenario.id] = [loadAtStart, loadavg()[0] as number]
      await save(assemble())
      progress(`${scenario.id}: done`)
    }
  } finally {
    await env.close()
  }
  return assemble()
}

interface RunFacts { date: string, quick: boolean, loadBefore: number, load: Results['load'], durationSec: number }

function results (env: BenchEnv, rows: Row[], { date, quick, loadBefore, load, durationSec }: RunFacts): Results {
  return {
    schema: 1,
    date,
    quick,
    command: ['node', ...process.execArgv, ...process.argv.slice(1)].join(' '),
    durationSec: Math.round(durationSec * 10) / 10,
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      memoryMB: Math.round(totalmem() / 1024 ** 2),
      loadBefore,
      loadAfter: loadavg()[0] as number
    },
    load: { ...load },
    versions: env.versions,
    sizes: { ...env.sizes },
    rows: [...rows],
    targets: judgeTargets(rows)
  }
}
