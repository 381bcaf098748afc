/**
 * Rotation-aware rendering (`credreg render --test CMD`, a template's `test`
 * in `credreg agent`): when an open rotation stages keys templates read, each
 * such template is rendered with the staged values (current ones for the
 * other keys) to `FILE.pending`, its test command runs with that file's path
 * in `$CREDREG_PENDING_FILE`, and this host acknowledges the rotation once:
 * ok when every test passed, else failed with the failed tests' output.
 * While the rotation stays open and this host's latest acknowledgement is not
 * ok, the tests run again every `retestMs`, so fixing their cause turns the
 * acknowledgement ok without anyone stepping in.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { CredregClient } from '../client/client.js'
import type { JsonObject, Rotation } from '../types.js'
import type { RenderedFile } from './render-file.js'
import { runShell } from './shell.js'

/** Options of {@link checkRotations}. */
export interface RotationCheckOptions {
  /** While this host's latest acknowledgement of an open rotation is not ok, test again this often; 0: never (default 30 s). */
  retestMs?: number
  /** How often the open rotations are listed besides the watch, most (default 2 s, less when `retestMs` is shorter). */
  pollMs?: number
  /** The directory the tests run in (default: the current one). */
  cwd?: string
}

/** A rendered file and the shell command that tests its pending version. */
export interface RotationTarget {
  file: RenderedFile
  test: string
}

/** Checks every open and every newly staged rotation that touches the keys of `targets`, until `signal` aborts. */
export async function checkRotations (client: CredregClient, targets: readonly RotationTarget[], log: (text: string) => void, signal: AbortSignal, options: RotationCheckOptions = {}): Promise<void> {
  const retestMs = options.retestMs ?? 30_000
  const pollMs = Math.max(100, Math.min(options.pollMs ?? 2000, retestMs > 0 ? retestMs : Infinity))
  let nodeId: string | undefined
  const testedAt = new Map<string, number>()
  const running = new Set<string>()

  /** Whether `rotation` waits for a test by this host: never tested, or due again after an acknowledgement that is not ok. */
  const due = (rotation: Rotation): boolean => {
    const last = testedAt.get(rotation.id)
    if (last === undefined) return true
    if (retestMs === 0 || Date.now() - last < retestMs) return false
    const mine = rotation.hosts.find(host => host.nodeId === nodeId)
    return mine !== undefined && mine.ack !== 'ok'
  }

  const check = async (rotation: Rotation): Promise<void> => {
    const stagedKeys = new Set(rotation.changes.map(c => c.key))
    const touched = targets.filter(target => target.file.template.keys.some(key => stagedKeys.has(key)))
    if (rotation.status !== 'staged' || touched.length === 0 || running.has(rotation.id) || !due(rotation)) return
    const again = testedAt.has(rotation.id)
    running.add(rotation.id)
    try {
      const results = []
      for (const target of touched) results.push(await runTest(client, target, rotation, stagedKeys, options.cwd))
      const ok = results.every(result => result.ok)
      const shown = results.filter(result => result.ok === ok)
      const message = shown.length === 1 ? (shown[0] as TestResult).message : shown.map(result => `${result.pendingPath}: ${result.message}`).join('\n')
      const paths = results.map(result => result.pendingPath).join(', ')
      try {
        await client.ack(rotation.id, { ok, message })
        log(`rotation ${rotation.id}: ${again ? 'tested again' : 'tested'} ${paths}, acknowledged ${ok ? 'ok' : 'failed'}`)
      } catch (err) {
        log(`rotation ${rotation.id}: acknowledgement refused: ${(err as Error).message}`)
      }
    } finally {
      testedAt.set(rotation.id, Date.now())
      running.delete(rotation.id)
    }
  }

  // The watch connects on its first read, so a rotation staged just before is caught by
  // reading the open ones now and then; the same reads find the acknowledgements due again.
  const poll = (async () => {
    while (!signal.aborted) {
      nodeId ??= await client.status().then(status => status.nodeId, () => undefined)
      for (const rotation of await client.rotations().catch(() => [])) await check(rotation)
      await sleep(pollMs, undefined, { signal }).catch(() => undefined)
    }
  })()
  while (!signal.aborted) {
    try {
      const events = client.watchRotations({ signal })
      for await (const event of events) if (event.event === 'staged') await check(await client.rotation(event.rotation))
    } catch (err) {
      if (signal.aborted) break
      log(`rotation watch: ${(err as Error).message}; retrying`)
    }
    await sleep(1000, undefined, { signal }).catch(() => undefined)
  }
  await poll
}

interface TestResult { ok: boolean, message: string, pendingPath: string }

/** Renders the staged values of `rotation` to `FILE.pending` and runs the target's test on it. */
async function runTest (client: CredregClient, { file, test }: RotationTarget, rotation: Rotation, staged: ReadonlySet<string>, cwd: string | undefined): Promise<TestResult> {
  const pendingPath = `${file.path}.pending`
  try {
    const values = new Map<string, JsonObject>()
    for (const key of file.template.keys) {
      const entity = await client.get(key, staged.has(key) ? { stage: 'pending' } : {}).catch(() => undefined)
      if (entity?.value !== undefined) values.set(key, entity.value)
    }
    await file.write(values, pendingPath)
    const result = await runShell(test, { env: { CREDREG_PENDING_FILE: pendingPath, CREDREG_ROTATION: rotation.id }, ...(cwd !== undefined ? { cwd } : {}) })
    return { ok: result.code === 0, message: result.tail === '' ? `test exited ${result.code}` : result.tail, pendingPath }
  } catch (err) {
    return { ok: false, message: `render of ${pendingPath} failed: ${(err as Error).message}`, pendingPath }
  }
}
