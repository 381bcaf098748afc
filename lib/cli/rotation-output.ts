/** How the rotation commands show a rotation to people: its state, its changes, its hosts. */
import type { Rotation } from '../types.js'
import type { Output } from './output.js'

/** `rotation`, `status`, `staged`, `deadline`, `closed` lines, the names aligned. */
export function rotationFields (out: Output, r: Rotation): void {
  const { closed } = r
  out.fields([
    ['rotation', r.id],
    ['status', r.status],
    ['staged', `at sequence ${r.seq}, ${r.stagedAt}, by ${r.stagedBy}`],
    ['acks', ackSummary(r)],
    ...r.deadline !== undefined ? [['deadline', `${r.deadline}${r.status === 'staged' ? ' (aborted if still open then)' : ''}`] as [string, string]] : [],
    ...closed !== undefined ? [[r.status, `at sequence ${closed.seq}, ${closed.at}, by ${closed.by}${closed.forced === true ? ', forced' : ''}${closed.reason !== undefined ? `: ${closed.reason}` : ''}`] as [string, string]] : []
  ])
}

/** The staged changes: each key, the version it builds on and the one it becomes. */
export function changesTable (out: Output, r: Rotation): void {
  out.table(['KEY', 'OP', 'BUILT ON', 'VERSION'], r.changes.map(c => [c.key, c.op, c.builtOn, c.version]))
}

/** Each host the rotation waits for: its acknowledgement, whether it holds the staged values, what it said. */
export function hostsTable (out: Output, r: Rotation): void {
  out.table(['HOST', 'ACK', 'HOLDS', 'ACKED AT', 'MESSAGE'], r.hosts.map(h => [
    h.nodeId, h.ack, h.holds === undefined ? '?' : h.holds ? 'yes' : 'no', h.ackedAt ?? '', (h.message ?? '').replaceAll('\n', ' ')
  ]))
}

/** `1 of 3 ok, 1 failed (b), waiting for c`. */
export function ackSummary (r: Rotation): string {
  const ok = r.hosts.filter(h => h.ack === 'ok').length
  const failed = r.hosts.filter(h => h.ack === 'failed').map(h => h.nodeId)
  const silent = r.hosts.filter(h => h.ack === 'silent').map(h => h.nodeId)
  return [
    `${ok} of ${r.hosts.length} ok`,
    ...failed.length > 0 ? [`${failed.length} failed (${failed.join(', ')})`] : [],
    ...silent.length > 0 && r.status === 'staged' ? [`waiting for ${silent.join(', ')}`] : []
  ].join(', ')
}
