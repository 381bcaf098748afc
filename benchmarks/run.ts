/**
 * `npm run bench [-- --quick] [-- --only get,scale] [-- --out file]`: every
 * scenario against credreg, NATS KV and etcd in one environment; the
 * Markdown report on stdout, progress on stderr, the results in
 * benchmarks/results/latest.json (quick.json for a quick run).
 */
import { fileURLToPath } from 'node:url'
import { scenario as catchUp } from './catch-up.bench.js'
import { scenario as contention } from './contention.bench.js'
import { scenario as get } from './get.bench.js'
import { scenario as propagation } from './propagation.bench.js'
import { scenario as put } from './put.bench.js'
import { scenario as fleet } from './fleet.bench.js'
import { scenario as scale } from './scale.bench.js'
import { main } from './support/cli.js'

// A quick run must not overwrite the figures of the last full one.
const out = {
  full: fileURLToPath(new URL('results/latest.json', import.meta.url)),
  quick: fileURLToPath(new URL('results/quick.json', import.meta.url))
}

// The heaviest last.
await main([get, put, propagation, contention, catchUp, scale, fleet], out)
