/**
 * `npm run faults` runs the fault scenarios of this folder with tap, one file
 * at a time (each starts NATS and three daemons under load, so running two at
 * once on a small machine would mostly measure the machine).
 *
 *   npm run faults                          each scenario once, briefly (as in `npm test`)
 *   npm run faults -- --long                soaks: CREDREG_FAULTS=long plays each fault
 *                                           schedule 5 times with longer holds
 *   npm run faults -- [--long] test/faults/nats-kill.ts …   only these scenarios
 *
 * The mode reaches the tests as the environment variable CREDREG_FAULTS
 * (test/fixtures/faults/mode.ts), so `CREDREG_FAULTS=long npx tap test/faults/x.ts`
 * works too. Each run prints one summary line per scenario (a TAP comment
 * starting with `faults <scenario>:`).
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const long = args.includes('--long')
const chosen = args.filter(a => a !== '--long')
const files = chosen.length > 0
  ? chosen
  : readdirSync(here).filter(f => f.endsWith('.ts') && f !== 'run.ts').sort().map(f => `test/faults/${f}`)
const tap = fileURLToPath(new URL('../../node_modules/.bin/tap', import.meta.url))

const child = spawn(tap, ['--jobs', '1', '--disable-coverage', '--timeout', long ? '3600' : '300', ...files], {
  stdio: 'inherit',
  env: { ...process.env, CREDREG_FAULTS: long ? 'long' : 'short' }
})
child.on('exit', (code, signal) => { process.exitCode = code ?? (signal !== null ? 1 : 0) })
