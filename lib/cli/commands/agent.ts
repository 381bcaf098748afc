/**
 * `credreg agent --config agent.json`: renders several templates, and after
 * each change (one per changeset) writes every file it changes, then runs the
 * one reload command once, after an optional random splay. A template with a
 * `test` has the rotations staging its keys tested and acknowledged, as
 * `credreg render --test` does. The templates rendered into the configuration's
 * `directory` are switched together, in one step (render-dir.ts). With `--status-socket` it serves its state on
 * `GET /healthz` (agent-status.ts).
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { loadAgentConfig } from '../../agent/agent-config.js'
import { AgentStatus, serveStatus } from '../../agent/agent-status.js'
import { resolveOwner } from '../../agent/atomic-write.js'
import { KeyFeed, type FeedState } from '../../agent/key-feed.js'
import { RenderedDirectory } from '../../agent/render-dir.js'
import { RenderedFile } from '../../agent/render-file.js'
import { checkRotations, type RotationTarget } from '../../agent/rotation-check.js'
import { runShell } from '../../agent/shell.js'
import { compileTemplate } from '../../agent/template.js'
import { waitForDaemon } from '../../agent/wait-daemon.js'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface AgentInput {
  config?: string
  once?: boolean
  splay?: number
  wait?: number
  statusSocket?: string
  retest?: number
}

export async function run (ctx: CommandContext, input: AgentInput): Promise<void> {
  // Not a commander requiredOption, which would bind `credreg agent status` too.
  if (input.config === undefined) throw new CredregError('BAD_REQUEST', 'required option \'--config <file>\' not specified')
  const configPath = input.config
  const config = await loadAgentConfig(configPath)
  const files: RenderedFile[] = []
  const alone: RenderedFile[] = []
  const inDirectory: RenderedFile[] = []
  const tested: RotationTarget[] = []
  for (const spec of config.templates) {
    const template = compileTemplate(await readFile(spec.source, 'utf8'), spec.source)
    const owner = spec.owner === undefined ? undefined : await resolveOwner(spec.owner)
    const file = new RenderedFile(template, spec.destination, { mode: spec.mode === undefined ? 0o600 : parseInt(spec.mode, 8), ...(owner !== undefined ? { owner } : {}) })
    files.push(file)
    if (spec.inDirectory) inDirectory.push(file)
    else alone.push(file)
    if (spec.test !== undefined) tested.push({ file, test: spec.test })
  }
  const directory = config.directory === undefined || inDirectory.length === 0 ? undefined : new RenderedDirectory(config.directory, inDirectory)
  const configDir = dirname(resolve(configPath))
  const splayMs = input.splay ?? config.splayMs ?? 0
  const log = (text: string): void => { ctx.io.stderr.write(`credreg agent: ${text}\n`) }
  const status = new AgentStatus(files.map(file => file.path))
  const server = input.statusSocket === undefined || input.once === true ? undefined : await serveStatus(input.statusSocket, status)
  try {
    await work()
  } finally {
    await server?.close()
  }

  async function work (): Promise<void> {
    const client = await ctx.client()
    await waitForDaemon(client, input.wait)
    const feed = new KeyFeed(client, files.flatMap(file => file.template.keys), config.debounceMs !== undefined ? { debounceMs: config.debounceMs } : {})
    await renderAll(await feed.snapshot())
    if (input.once === true) return
    const signal = ctx.interrupted()
    const retestMs = input.retest ?? config.retestMs
    const checks = tested.length === 0 ? undefined : checkRotations(client, tested, log, signal, { cwd: configDir, ...(retestMs !== undefined ? { retestMs } : {}) })
    for await (const state of feed.changes(signal)) {
      const switched = await renderAll(state)
      if (switched > 0 && config.command !== undefined) await reload(config.command, state.correlationIds, switched)
      status.done()
    }
    await checks
  }

  /** Renders every file; resolves with how many switched. A failed template keeps its file and fails the run with --once. */
  async function renderAll (state: FeedState): Promise<number> {
    const change = state.correlationIds.length === 0 ? 'start' : `change ${state.correlationIds.join(',')}`
    let switched = 0
    let failure: unknown
    status.taking(state.seq, state.correlationIds)
    const rendered = (file: RenderedFile, changed: boolean, bytes: number): void => {
      if (changed) switched++
      status.rendered(file.path, state.seq, bytes, changed, state.correlationIds)
      log(`${file.path} ${changed ? `written (${bytes} bytes)` : 'unchanged'} at seq ${state.seq} (${change})`)
    }
    const failed = (file: RenderedFile, err: Error): void => {
      failure ??= err
      status.failed(file.path, state.seq, err.message)
      log(`${file.path} kept: render failed at seq ${state.seq} (${change}): ${err.message}`)
    }
    if (directory !== undefined) {
      try {
        const results = await directory.write(state.values)
        for (const result of results) result.ok ? rendered(result.file, result.changed, result.bytes) : failed(result.file, result.error)
        if (results.some(result => result.ok && result.changed)) log(`${directory.path} switched at seq ${state.seq} (${change})`)
      } catch (err) {
        for (const file of directory.files) failed(file, err as Error)
      }
    }
    for (const file of alone) {
      try {
        const { changed, bytes } = await file.write(state.values)
        rendered(file, changed, bytes)
      } catch (err) {
        failed(file, err as Error)
      }
    }
    if (failure !== undefined && input.once === true) throw failure
    return switched
  }

  async function reload (command: string, correlationIds: string[], switched: number): Promise<void> {
    const delay = Math.floor(Math.random() * splayMs)
    if (delay > 0) {
      status.phase('splay')
      log(`reload in ${delay} ms (splay)`)
      await new Promise(resolve => setTimeout(resolve, delay))
    }
    status.phase('reloading')
    const { code } = await runShell(command, { out: ctx.io.stderr, cwd: configDir })
    status.reloaded(code, switched, correlationIds)
    log(`reload: ${switched} file(s) switched, command exited ${code} (change ${correlationIds.join(',')})`)
  }
}
