/**
 * `credreg render TEMPLATE --out FILE`: renders a template of register keys
 * to a file, atomically; with `--once` that is all, else it watches the keys
 * and renders again after each change (one render per changeset), running
 * `--on-change` when the file's bytes changed. With `--test` (and its
 * explicit `--stage pending`) it also tests the rotations staging its keys.
 */
import { readFile } from 'node:fs/promises'
import { resolveOwner } from '../../agent/atomic-write.js'
import { KeyFeed, type FeedState } from '../../agent/key-feed.js'
import { RenderedFile } from '../../agent/render-file.js'
import { checkRotations } from '../../agent/rotation-check.js'
import { runShell } from '../../agent/shell.js'
import { compileTemplate } from '../../agent/template.js'
import { waitForDaemon } from '../../agent/wait-daemon.js'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface RenderInput {
  template: string
  out: string
  mode?: number
  owner?: string
  once?: boolean
  onChange?: string
  wait?: number
  debounce?: number
  /** `pending`: render the staged values of a rotation to `FILE.pending` for `test` (which `test` implies). */
  stage?: 'pending'
  test?: string
  retest?: number
}

export async function run (ctx: CommandContext, input: RenderInput): Promise<void> {
  if (input.stage === 'pending' && input.test === undefined) throw new CredregError('BAD_REQUEST', '--stage pending renders the staged values for --test, which is missing')
  const template = compileTemplate(await readFile(input.template, 'utf8'), input.template)
  const owner = input.owner === undefined ? undefined : await resolveOwner(input.owner)
  const file = new RenderedFile(template, input.out, { mode: input.mode ?? 0o600, ...(owner !== undefined ? { owner } : {}) })
  const client = await ctx.client()
  await waitForDaemon(client, input.wait)
  const feed = new KeyFeed(client, template.keys, input.debounce !== undefined ? { debounceMs: input.debounce } : {})
  const log = (text: string): void => { ctx.io.stderr.write(`credreg render: ${text}\n`) }

  const render = async (state: FeedState): Promise<boolean> => {
    const change = state.correlationIds.length === 0 ? 'start' : `change ${state.correlationIds.join(',')}`
    try {
      const { changed, bytes } = await file.write(state.values)
      log(`${input.out} ${changed ? `written (${bytes} bytes)` : 'unchanged'} at seq ${state.seq} (${change})`)
      return changed
    } catch (err) {
      if (input.once === true) throw err
      log(`${input.out} kept: render failed at seq ${state.seq} (${change}): ${(err as Error).message}`)
      return false
    }
  }

  const first = await feed.snapshot()
  await render(first)
  if (input.once === true) return
  const signal = ctx.interrupted()
  const checks = input.test === undefined ? undefined : checkRotations(client, [{ file, test: input.test }], log, signal, input.retest !== undefined ? { retestMs: input.retest } : {})
  for await (const state of feed.changes(signal)) {
    if (!await render(state) || input.onChange === undefined) continue
    const { code } = await runShell(input.onChange, { env: { CREDREG_FILE: input.out }, out: ctx.io.stderr })
    log(`--on-change exited ${code} (${state.correlationIds.join(',')})`)
  }
  await checks
}
