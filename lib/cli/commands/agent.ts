/**
 * `credreg agent --config agent.json`: renders several templates, and after
 * each change (one per changeset) writes every file it changes, then runs the
 * one reload command once, after an optional random splay.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { loadAgentConfig } from '../../agent/agent-config.js'
import { resolveOwner } from '../../agent/atomic-write.js'
import { KeyFeed, type FeedState } from '../../agent/key-feed.js'
import { RenderedFile } from '../../agent/render-file.js'
import { runShell } from '../../agent/shell.js'
import { compileTemplate } from '../../agent/template.js'
import { waitForDaemon } from '../../agent/wait-daemon.js'
import type { CommandContext } from '../context.js'

export interface AgentInput {
  config: string
  once?: boolean
  splay?: number
  wait?: number
}

export async function run (ctx: CommandContext, input: AgentInput): Promise<void> {
  const config = await loadAgentConfig(input.config)
  const files: RenderedFile[] = []
  for (const spec of config.templates) {
    const template = compileTemplate(await readFile(spec.source, 'utf8'), spec.source)
    const owner = spec.owner === undefined ? undefined : await resolveOwner(spec.owner)
    files.push(new RenderedFile(template, spec.destination, { mode: spec.mode === undefined ? 0o600 : parseInt(spec.mode, 8), ...(owner !== undefined ? { owner } : {}) }))
  }
  const splayMs = input.splay ?? config.splayMs ?? 0
  const client = await ctx.client()
  await waitForDaemon(client, input.wait)
  const feed = new KeyFeed(client, files.flatMap(file => file.template.keys), config.debounceMs !== undefined ? { debounceMs: config.debounceMs } : {})
  const log = (text: string): void => { ctx.io.stderr.write(`credreg agent: ${text}\n`) }

  /** Renders every file; resolves with how many switched. A failed template keeps its file and fails the run with --once. */
  const renderAll = async (state: FeedState): Promise<number> => {
    const change = state.correlationIds.length === 0 ? 'start' : `change ${state.correlationIds.join(',')}`
    let switched = 0
    let failure: unknown
    for (const file of files) {
      try {
        const { changed, bytes } = await file.write(state.values)
        if (changed) switched++
        log(`${file.path} ${changed ? `written (${bytes} bytes)` : 'unchanged'} at seq ${state.seq} (${change})`)
      } catch (err) {
        failure ??= err
        log(`${file.path} kept: render failed at seq ${state.seq} (${change}): ${(err as Error).message}`)
      }
    }
    if (failure !== undefined && input.once === true) throw failure
    return switched
  }

  await renderAll(await feed.snapshot())
  if (input.once === true) return
  for await (const state of feed.changes(ctx.interrupted())) {
    const switched = await renderAll(state)
    if (switched === 0 || config.command === undefined) continue
    const delay = Math.floor(Math.random() * splayMs)
    if (delay > 0) {
      log(`reload in ${delay} ms (splay)`)
      await new Promise(resolve => setTimeout(resolve, delay))
    }
    const { code } = await runShell(config.command, { out: ctx.io.stderr, cwd: dirname(resolve(input.config)) })
    log(`reload: ${switched} file(s) switched, command exited ${code} (change ${state.correlationIds.join(',')})`)
  }
}
