/**
 * `credreg agent status --status-socket PATH`: asks a running `credreg agent`
 * (started with the same `--status-socket`) for its state and prints it: each
 * template's last render and failure, the last reload, the pending change.
 * Exit 1 while a template's latest render failed (or none succeeded yet).
 */
import { request } from 'node:http'
import type { AgentStatusReport } from '../../agent/agent-status.js'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface AgentStatusInput {
  statusSocket: string
}

export async function run (ctx: CommandContext, input: AgentStatusInput): Promise<void> {
  const report = await fetchReport(input.statusSocket)
  if (!report.ok) ctx.exitCode = 1
  ctx.out.result(report, () => {
    ctx.out.fields([
      ['state', report.ok ? 'ok' : 'failing'],
      ['started', report.startedAt],
      ['sequence', report.seq],
      ['last reload', report.lastReload === undefined ? 'none' : `${report.lastReload.at}, exit ${report.lastReload.code}, ${report.lastReload.switched} file(s) switched (${report.lastReload.correlationIds.join(',')})`],
      ['pending', report.pending === undefined ? 'none' : `${report.pending.phase} since ${report.pending.since} (${report.pending.correlationIds.join(',')})`]
    ])
    ctx.out.line('')
    ctx.out.table(['FILE', 'RENDERED AT', 'SEQ', 'BYTES', 'CHANGES', 'ERROR'], report.templates.map(t => [
      t.destination,
      t.lastRender?.at ?? 'never',
      t.lastRender?.seq ?? '',
      t.lastRender?.bytes ?? '',
      t.lastRender === undefined ? '' : t.lastRender.correlationIds.length === 0 ? 'start' : t.lastRender.correlationIds.join(','),
      t.lastError === undefined ? '' : `${t.lastError.at}: ${t.lastError.message.replaceAll('\n', ' ')}`
    ]))
  })
}

/** `GET /healthz` on `socket`; an agent that does not answer is `UNAVAILABLE`. */
async function fetchReport (socket: string): Promise<AgentStatusReport> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/healthz', method: 'GET', timeout: 5000 }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => {
        try {
          resolve(JSON.parse(body) as AgentStatusReport)
        } catch (err) {
          reject(new CredregError('UNAVAILABLE', `the agent at ${socket} answered no status`, { cause: err }))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 5s')))
    req.on('error', err => reject(new CredregError('UNAVAILABLE', `no agent answers at ${socket}: ${err.message}`, { cause: err })))
    req.end()
  })
}
