import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { resultsProblem, SYSTEMS, EVERY_SCENARIO, type Results, type System } from '../benchmarks/support/results.js'
import { spawnTs } from './fixtures/child.js'

const RUNNER = fileURLToPath(new URL('../benchmarks/run.ts', import.meta.url))
const SCENARIOS = ['get', 'put-1', 'put-16', 'put-1-signed', 'put-16-signed', 'propagation', 'catch-up', 'catch-up-signed', 'scale', 'contention']
// Which systems each scenario measures: the peers run once, in open mode; contention has no daemon;
// the cached client only reads, in get.
const systemsOf = (scenario: string): readonly System[] => {
  const systems = scenario === 'get' ? SYSTEMS : EVERY_SCENARIO
  return scenario.endsWith('-signed') ? systems.filter(s => s.startsWith('credreg')) : systems.filter(s => scenario !== 'contention' || s !== 'credreg daemon')
}

// No timing is asserted: only that the benchmarks still run end to end.
t.test('npm run bench -- --quick runs every scenario and writes a well-formed results file', async t => {
  const out = join(t.testdir(), 'results.json')
  const child = spawnTs(RUNNER, ['--quick', '--out', out])
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  t.equal(code, 0, 'exit 0', { stderr })

  const results = JSON.parse(await readFile(out, 'utf8')) as Results
  t.equal(resultsProblem(results), undefined, 'the file matches the results schema')
  t.equal(results.quick, true)
  for (const scenario of SCENARIOS) {
    for (const system of systemsOf(scenario)) {
      const row = results.rows.find(r => r.scenario === scenario && r.system === system)
      t.ok(row, `${scenario}: a ${system} row`)
      if (row === undefined) continue
      if (system === 'etcd' && row.status === 'not installed') continue
      t.equal(row.status, 'ok', `${scenario}: ${system} measured`, { note: row.note })
    }
  }
  t.notOk(results.rows.some(r => r.status === 'error'), 'no scenario failed')
  t.ok(results.targets.length > 0, 'the targets are judged')
  t.match(stdout, /\| scenario \| system \|/, 'the Markdown table is on stdout')
  t.match(stdout, /### Targets/)
})
