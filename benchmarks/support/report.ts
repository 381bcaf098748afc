/** The Markdown report on stdout: one table of every row, then the targets. */
import { ALL_SYSTEMS, PEERS, type Results, type Row } from './results.js'

const TITLES: Record<string, string> = {
  get: 'get',
  'put-1': 'conditional put, 1 writer',
  'put-16': 'conditional put, 16 writers',
  'put-1-signed': 'conditional put, 1 writer, under a policy',
  'put-16-signed': 'conditional put, 16 writers, under a policy',
  propagation: 'propagation A → B',
  'catch-up': 'catch-up',
  'catch-up-signed': 'catch-up, under a policy',
  scale: 'scale',
  contention: 'contention, 1 key',
  fleet: 'fleet (simulated members)',
  'fleet-consumers': 'ordered consumers on one stream'
}

const MARK = { met: '✅ met', missed: '❌ missed', 'n/a': '➖ n/a' } as const

/** The rows as a Markdown table with each credreg figure's ratio to each peer. */
export function table (rows: Row[]): string {
  const head = ['scenario', 'system', 'n', 'p50 ms', 'p99 ms', 'ops/s', ...PEERS.map(p => `÷ ${p} (p50 · p99 · ops/s)`), 'notes']
  const lines = [row(head), row(head.map(() => '---'))]
  for (const r of ordered(rows)) {
    const peers = PEERS.map(p => r.system.startsWith('credreg') ? ratios(r, rows.find(o => o.scenario === r.scenario && o.system === p)) : '')
    lines.push(row([
      TITLES[r.scenario] ?? r.scenario,
      r.system,
      r.n?.toLocaleString('en-US') ?? '',
      fig(r.p50Ms),
      fig(r.p99Ms),
      r.opsPerSec === undefined ? '' : Math.round(r.opsPerSec).toLocaleString('en-US'),
      ...peers,
      r.status === 'ok' ? extras(r) : `**${r.status}**: ${r.note}`
    ]))
  }
  return lines.join('\n')
}

/** The whole report: header, table, targets. */
export function report (results: Results): string {
  const m = results.machine
  const out = [
    `## credreg benchmarks${results.quick ? ' (--quick: tiny sizes, figures are not meaningful)' : ''}`,
    '',
    `${results.date} · ${m.nproc} × ${m.cpu} · ${Math.round(m.memoryMB / 1024)} GB · load ${m.loadBefore.toFixed(2)} → ${m.loadAfter.toFixed(2)} · ` +
      Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(' · ') + ` · ${Math.round(results.durationSec)} s`,
    '',
    `1-minute load average per scenario (start → end): ${Object.entries(results.load).map(([id, [a, b]]) => `${id} ${a.toFixed(1)} → ${b.toFixed(1)}`).join(' · ')}`,
    '',
    table(results.rows),
    '',
    'Ratios are credreg ÷ peer: below 1 is better for latencies, above 1 is better for ops/s.',
    '',
    '### Targets',
    '',
    ...(results.targets.length === 0 ? ['None among the scenarios run.'] : results.targets.map(t => `- ${MARK[t.status]}: ${t.text}: ${t.detail}`))
  ]
  return out.join('\n') + '\n'
}

/** Scenarios in the order they ran, systems in {@link ALL_SYSTEMS} order within each. */
function ordered (rows: Row[]): Row[] {
  const scenarios = [...new Set(rows.map(r => r.scenario))]
  const rank = (r: Row): number => scenarios.indexOf(r.scenario) * ALL_SYSTEMS.length + ALL_SYSTEMS.indexOf(r.system)
  return rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map(({ r }) => r)
}

function ratios (r: Row, peer: Row | undefined): string {
  if (r.status !== 'ok' || peer?.status !== 'ok') return ''
  const part = (a: number | undefined, b: number | undefined): string => a === undefined || b === undefined || b === 0 ? '–' : `${ratio(a / b)}×`
  return [part(r.p50Ms, peer.p50Ms), part(r.p99Ms, peer.p99Ms), part(r.opsPerSec, peer.opsPerSec)].join(' · ')
}

function ratio (x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(2)
}

function extras (r: Row): string {
  return Object.entries(r.extra ?? {}).map(([k, v]) => `${k}: ${typeof v === 'number' ? v.toLocaleString('en-US') : String(v)}`).join(' · ')
}

function fig (x: number | undefined): string {
  if (x === undefined) return ''
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3)
}

function row (cells: string[]): string {
  return `| ${cells.map(c => c.replaceAll('|', '\\|')).join(' | ')} |`
}
