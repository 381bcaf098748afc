/** The targets, judged on the rows of one run (ratios within the run). */
import type { Row, System, Target } from './results.js'

type Find = (scenario: string, system: System) => Row | undefined
type Judge = (find: Find) => Omit<Target, 'id' | 'text'>

interface Rule { id: string, scenario: string, text: string, judge: Judge }

const ms = (x: number): string => `${x.toPrecision(3)} ms`
const rate = (x: number): string => `${Math.round(x).toLocaleString('en-US')}/s`

/** `a` within `factor` × `b` on a figure; n/a when either row has no figures. */
function compare (
  find: Find, scenario: string, system: System, peer: System, figure: 'p50Ms' | 'p99Ms' | 'opsPerSec',
  ok: (credreg: number, other: number) => boolean, show: (x: number) => string
): Omit<Target, 'id' | 'text'> {
  const a = find(scenario, system)?.[figure]
  const b = find(scenario, peer)?.[figure]
  if (a === undefined || b === undefined) return { status: 'n/a', detail: `no ${a === undefined ? system : peer} figures in ${scenario}` }
  return { status: ok(a, b) ? 'met' : 'missed', detail: `${system} ${show(a)} vs ${peer} ${show(b)} (${(a / b).toPrecision(3)}×)` }
}

function absolute (find: Find, scenario: string, system: System, value: (r: Row) => number | undefined, ok: (x: number) => boolean, show: (x: number) => string): Omit<Target, 'id' | 'text'> {
  const row = find(scenario, system)
  const x = row === undefined ? undefined : value(row)
  if (x === undefined) return { status: 'n/a', detail: `no ${system} figures in ${scenario}` }
  return { status: ok(x) ? 'met' : 'missed', detail: `${system} ${show(x)}` }
}

const RULES: Rule[] = [
  {
    id: 'get-daemon-p99',
    scenario: 'get',
    text: 'daemon get p99 ≤ NATS KV get p99',
    judge: f => compare(f, 'get', 'credreg daemon', 'NATS KV', 'p99Ms', (a, b) => a <= b, ms)
  },
  {
    id: 'get-cached-p50',
    scenario: 'get',
    text: 'cached client get p50 ≤ 0.7× NATS KV get p50',
    judge: f => compare(f, 'get', 'credreg cached client', 'NATS KV', 'p50Ms', (a, b) => a <= 0.7 * b, ms)
  },
  {
    id: 'get-cached-p99',
    scenario: 'get',
    text: 'cached client get p99 ≤ NATS KV get p99',
    judge: f => compare(f, 'get', 'credreg cached client', 'NATS KV', 'p99Ms', (a, b) => a <= b, ms)
  },
  {
    id: 'get-node-10x',
    scenario: 'get',
    text: 'in-process get at least 10× faster than NATS KV get (p50)',
    judge: f => compare(f, 'get', 'credreg node', 'NATS KV', 'p50Ms', (a, b) => a * 10 <= b, ms)
  },
  ...(['credreg node', 'credreg daemon'] as const).flatMap((system): Rule[] => [
    {
      id: `put-p50-${system.split(' ')[1] as string}`,
      scenario: 'put-1',
      text: `conditional put p50 ≤ 1.5× NATS KV update p50 (${system})`,
      judge: f => compare(f, 'put-1', system, 'NATS KV', 'p50Ms', (a, b) => a <= 1.5 * b, ms)
    },
    {
      id: `put-16-${system.split(' ')[1] as string}`,
      scenario: 'put-16',
      text: `16-writer put throughput ≥ 0.7× NATS KV (${system})`,
      judge: f => compare(f, 'put-16', system, 'NATS KV', 'opsPerSec', (a, b) => a >= 0.7 * b, rate)
    },
    {
      id: `put-signed-p50-${system.split(' ')[1] as string}`,
      scenario: 'put-1-signed',
      text: `conditional put p50 under a policy within +0.1 ms of open mode (${system})`,
      judge: f => {
        const [signed, open] = [f('put-1-signed', system)?.p50Ms, f('put-1', system)?.p50Ms]
        if (signed === undefined || open === undefined) return { status: 'n/a', detail: `no ${system} figures in put-1${signed === undefined ? '-signed' : ''}` }
        return { status: signed - open <= 0.1 ? 'met' : 'missed', detail: `${system} ${ms(signed)} vs ${ms(open)} in open mode (${signed >= open ? '+' : '−'}${ms(Math.abs(signed - open))})` }
      }
    }
  ]),
  ...([['credreg node', 'library watch'], ['credreg daemon', 'daemon SSE']] as const).flatMap(([system, via]): Rule[] => [
    {
      id: `propagation-nats-${system.split(' ')[1] as string}`,
      scenario: 'propagation',
      text: `propagation p99 ≤ 2× NATS KV watch p99 (${via})`,
      judge: f => compare(f, 'propagation', system, 'NATS KV', 'p99Ms', (a, b) => a <= 2 * b, ms)
    },
    {
      id: `propagation-etcd-${system.split(' ')[1] as string}`,
      scenario: 'propagation',
      text: `propagation p99 below etcd's (${via})`,
      judge: f => compare(f, 'propagation', system, 'etcd', 'p99Ms', (a, b) => a < b, ms)
    }
  ]),
  {
    id: 'catch-up-rate',
    scenario: 'catch-up',
    text: 'catch-up ≥ 50,000 changes/s (daemon)',
    judge: f => absolute(f, 'catch-up', 'credreg daemon', r => r.opsPerSec, x => x >= 50_000, rate)
  },
  ...(['credreg node', 'credreg daemon'] as const).map((system): Rule => ({
    id: `catch-up-signed-${system.split(' ')[1] as string}`,
    scenario: 'catch-up-signed',
    text: `catch-up under a policy ≥ 20,000 changes/s, every signature verified (${system})`,
    judge: f => absolute(f, 'catch-up-signed', system, r => r.opsPerSec, x => x >= 20_000, rate)
  })),
  {
    id: 'scale-rss',
    scenario: 'scale',
    text: '1,000,000-entity daemon RSS ≤ 400 MB',
    judge: f => absolute(f, 'scale', 'credreg daemon', r => r.extra?.['RSS MB'] as number | undefined, x => x <= 400, x => `${x.toPrecision(3)} MB`)
  }
]

/** The targets of the scenarios that ran: met, missed, or n/a (a row it needs has no figures). */
export function judgeTargets (rows: Row[]): Target[] {
  const find: Find = (scenario, system) => rows.find(r => r.scenario === scenario && r.system === system && r.status === 'ok')
  const ran = new Set(rows.map(r => r.scenario))
  return RULES.filter(rule => ran.has(rule.scenario)).map(({ id, text, judge }) => ({ id, text, ...judge(find) }))
}
