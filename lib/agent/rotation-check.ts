/**
 * Rotation-aware rendering (`credreg render --test CMD`): when an open
 * rotation stages keys a template reads, the template is rendered with the
 * staged values (current ones for the other keys) to `FILE.pending`, the
 * test command runs with that file's path in `$CREDREG_PENDING_FILE`, and
 * this host acknowledges the rotation ok or failed with the command's output.
 */
import type { CredregClient } from '../client/client.js'
import type { JsonObject, Rotation } from '../types.js'
import type { RenderedFile } from './render-file.js'
import { runShell } from './shell.js'

/** Checks every open and every newly staged rotation that touches `file`'s keys, until `signal` aborts. */
export async function checkRotations (client: CredregClient, file: RenderedFile, test: string, log: (text: string) => void, signal: AbortSignal): Promise<void> {
  const done = new Set<string>()
  const check = async (rotation: Rotation): Promise<void> => {
    const staged = new Set(rotation.changes.map(c => c.key).filter(key => file.template.keys.includes(key)))
    if (rotation.status !== 'staged' || staged.size === 0 || done.has(rotation.id)) return
    done.add(rotation.id)
    const pendingPath = `${file.path}.pending`
    let ok = false
    let message: string
    try {
      const values = new Map<string, JsonObject>()
      for (const key of file.template.keys) {
        const entity = await client.get(key, staged.has(key) ? { stage: 'pending' } : {}).catch(() => undefined)
        if (entity?.value !== undefined) values.set(key, entity.value)
      }
      await file.write(values, pendingPath)
      const result = await runShell(test, { env: { CREDREG_PENDING_FILE: pendingPath, CREDREG_ROTATION: rotation.id } })
      ok = result.code === 0
      message = result.tail === '' ? `test exited ${result.code}` : result.tail
    } catch (err) {
      message = `render of ${pendingPath} failed: ${(err as Error).message}`
    }
    try {
      await client.ack(rotation.id, { ok, message })
      log(`rotation ${rotation.id}: tested ${pendingPath}, acknowledged ${ok ? 'ok' : 'failed'}`)
    } catch (err) {
      log(`rotation ${rotation.id}: acknowledgement refused: ${(err as Error).message}`)
    }
  }
  // The watch connects on its first read, so a rotation staged just before is caught by reading the open ones now and then.
  const poll = (async () => {
    while (!signal.aborted) {
      for (const rotation of await client.rotations().catch(() => [])) await check(rotation)
      await new Promise(resolve => setTimeout(resolve, 2000))
    }
  })()
  while (!signal.aborted) {
    try {
      const events = client.watchRotations({ signal })
      for await (const event of events) if (event.event === 'staged') await check(await client.rotation(event.rotation))
    } catch (err) {
      if (signal.aborted) return
      log(`rotation watch: ${(err as Error).message}; retrying`)
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  await poll
}
