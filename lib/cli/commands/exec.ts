/**
 * `credreg exec --env NAME=KEY#/pointer … [--env-file TEMPLATE] -- CMD ARGS`:
 * runs CMD with register values in its environment, started only once every
 * value is present; after a change (one per changeset) it restarts the child
 * or, with `--signal`, signals it. SIGINT, SIGTERM and SIGHUP reach the
 * child; the child's exit code becomes credreg's.
 */
import { readFile } from 'node:fs/promises'
import { isDeepStrictEqual } from 'node:util'
import { parseEnvRef, resolveEnv, type EnvResult } from '../../agent/env-source.js'
import { KeyFeed, type FeedState } from '../../agent/key-feed.js'
import { Supervisor } from '../../agent/supervisor.js'
import { compileTemplate } from '../../agent/template.js'
import { waitForDaemon } from '../../agent/wait-daemon.js'
import { CredregError } from '../../errors.js'
import type { CommandContext } from '../context.js'

export interface ExecInput {
  command: string
  args: string[]
  env?: string[]
  envFile?: string
  restart?: boolean
  signal?: string
  grace?: number
  wait?: number
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export async function run (ctx: CommandContext, input: ExecInput): Promise<void> {
  const refs = (input.env ?? []).map(parseEnvRef)
  const template = input.envFile === undefined ? undefined : compileTemplate(await readFile(input.envFile, 'utf8'), input.envFile)
  const reloadSignal = input.signal === undefined ? undefined : checkSignal(input.signal)
  const keys = new Set([...refs.map(ref => ref.key), ...template?.keys ?? []])
  if (keys.size === 0) throw new CredregError('BAD_REQUEST', 'exec needs at least one --env or an --env-file')
  const client = await ctx.client()
  await waitForDaemon(client, input.wait)
  const log = (text: string): void => { ctx.io.stderr.write(`credreg exec: ${text}\n`) }
  const feed = new KeyFeed(client, keys)
  const stop = new AbortController()
  const changes = feed.changes.bind(feed)
  const resolve = async (state: FeedState): Promise<EnvResult> => await resolveEnv(refs, template, state.values)

  let env = await resolve(await feed.snapshot())
  const batches = changes(stop.signal)
  while ('missing' in env) {
    log(`waiting for ${env.missing.join(', ')}`)
    const next = await batches.next()
    if (next.done === true) return
    env = await resolve(next.value)
  }

  const supervisor = new Supervisor({ command: input.command, args: input.args, graceMs: input.grace ?? 10_000 })
  const forward = (signal: NodeJS.Signals): void => supervisor.signal(signal)
  for (const signal of FORWARDED) process.on(signal, forward)
  try {
    let current = env.env
    supervisor.start(current)
    log(`started ${input.command} (pid ${String(supervisor.pid)})`)
    const exited = supervisor.exited.then(code => ({ code }))
    for (;;) {
      const got = await Promise.race([batches.next(), exited])
      if ('code' in got) {
        ctx.exitCode = got.code
        log(`${input.command} exited ${got.code}`)
        return
      }
      if (got.done === true) return
      const next = await resolve(got.value)
      const change = got.value.correlationIds.join(',')
      if ('missing' in next) {
        log(`keeps running: missing ${next.missing.join(', ')} (change ${change})`)
        continue
      }
      if (isDeepStrictEqual(next.env, current)) continue
      current = next.env
      if (reloadSignal !== undefined) {
        supervisor.signal(reloadSignal)
        log(`sent ${reloadSignal} to pid ${String(supervisor.pid)} (change ${change})`)
      } else {
        const old = supervisor.pid
        await supervisor.restart(current)
        log(`restarted ${input.command}: pid ${String(old)} stopped, pid ${String(supervisor.pid)} started (change ${change})`)
      }
    }
  } finally {
    stop.abort()
    await batches.return(undefined)
    for (const signal of FORWARDED) process.off(signal, forward)
  }
}

function checkSignal (name: string): NodeJS.Signals {
  const signal = (name.startsWith('SIG') ? name : `SIG${name}`).toUpperCase()
  if (!/^SIG[A-Z0-9]+$/.test(signal) || signal === 'SIGKILL' || signal === 'SIGSTOP') throw new CredregError('BAD_REQUEST', `--signal takes a signal name such as SIGHUP, got ${JSON.stringify(name)}`)
  return signal as NodeJS.Signals
}
