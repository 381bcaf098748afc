/**
 * lib/agent/rotation-check.ts against a scripted client: a rotation staging
 * the template's keys is tested once and acknowledged; while this host's
 * acknowledgement stays failed it is tested again every `retestMs`, and
 * never again once ok; `retestMs: 0` tests once; rotations of other keys and
 * closed ones are never tested.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { CredregClient } from '../../lib/client/client.js'
import { checkRotations } from '../../lib/agent/rotation-check.js'
import { RenderedFile } from '../../lib/agent/render-file.js'
import { compileTemplate } from '../../lib/agent/template.js'
import type { Rotation } from '../../lib/types.js'
import { eventually } from '../fixtures/eventually.js'

interface Ack { id: string, ok: boolean, message: string }

function scripted (rotations: Rotation[]): { client: CredregClient, acks: Ack[] } {
  const acks: Ack[] = []
  const client = {
    status: async () => ({ nodeId: 'me' }),
    rotations: async () => rotations,
    rotation: async (id: string) => rotations.find(r => r.id === id),
    watchRotations: ({ signal }: { signal: AbortSignal }) => (async function * () {
      await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
      yield * []
    })(),
    get: async (key: string, options: { stage?: string }) => ({ key, version: 1, value: { password: options.stage === 'pending' ? 'new' : 'old' } }),
    ack: async (id: string, { ok, message }: { ok: boolean, message: string }) => {
      acks.push({ id, ok, message })
      const rotation = rotations.find(r => r.id === id) as Rotation
      rotation.hosts = rotation.hosts.map(h => h.nodeId === 'me' ? { ...h, ack: ok ? 'ok' : 'failed', message } : h)
      return rotation
    }
  } as unknown as CredregClient
  return { client, acks }
}

const rotation = (id: string, key: string, status: Rotation['status'] = 'staged'): Rotation => ({
  id, status, seq: 1, stagedAt: '', stagedBy: 'other', changes: [{ key, version: 2, builtOn: 1, op: 'put' }], hosts: [{ nodeId: 'me', ack: 'silent' }, { nodeId: 'other', ack: 'ok' }]
} as unknown as Rotation)

async function setup (t: Test): Promise<{ dir: string, file: RenderedFile, test: string }> {
  const dir = t.testdir()
  const file = new RenderedFile(compileTemplate('pw={{ secret["app/db"].password }}\n', 'db.tpl'), join(dir, 'db.conf'))
  const test = `cat "$CREDREG_PENDING_FILE"; test -f ${join(dir, 'fixed')}`
  return { dir, file, test }
}

/** Runs the checks for `ms`, then stops them. */
async function checking (client: CredregClient, file: RenderedFile, test: string, retestMs: number, until: () => Promise<boolean>, ms = 3000): Promise<string[]> {
  const logs: string[] = []
  const controller = new AbortController()
  const done = checkRotations(client, [{ file, test }], line => logs.push(line), controller.signal, { retestMs, pollMs: 50 })
  try {
    await eventually(until, 'the checks', ms)
  } finally {
    controller.abort()
    await done
  }
  return logs
}

t.test('failed, then tested again until the cause is fixed', async t => {
  const { dir, file, test } = await setup(t)
  const { client, acks } = scripted([rotation('r1', 'app/db')])
  let fixedAt = 0
  const logs = await checking(client, file, test, 150, async () => {
    if (acks.length === 2 && fixedAt === 0) {
      await writeFile(join(dir, 'fixed'), '')
      fixedAt = acks.length
    }
    return acks.some(a => a.ok)
  })
  t.match(acks[0], { id: 'r1', ok: false, message: /pw=new/ }, 'the test saw the staged value and its output is the message')
  t.equal(acks[1]?.ok, false, 'tested again while failed')
  t.equal(acks.at(-1)?.ok, true, 'ok once fixed')
  t.equal(await readFile(`${file.path}.pending`, 'utf8'), 'pw=new\n')
  t.match(logs.join('\n'), /rotation r1: tested again .*acknowledged ok/)
})

t.test('an ok acknowledgement is not tested again while the checks run', async t => {
  const { dir, file, test } = await setup(t)
  await writeFile(join(dir, 'fixed'), '')
  const { client, acks } = scripted([rotation('r2', 'app/db')])
  let since = 0
  await checking(client, file, test, 100, async () => {
    if (acks.length === 1 && since === 0) since = Date.now()
    return since > 0 && Date.now() - since > 500
  })
  t.same(acks.map(a => a.ok), [true])
})

t.test('retestMs 0 tests once; other keys and closed rotations are never tested', async t => {
  const { file, test } = await setup(t)
  const { client, acks } = scripted([rotation('r3', 'app/db'), rotation('r4', 'app/other'), rotation('r5', 'app/db', 'aborted')])
  let since = 0
  await checking(client, file, test, 0, async () => {
    if (acks.length === 1 && since === 0) since = Date.now()
    return since > 0 && Date.now() - since > 400
  })
  t.same(acks.map(a => [a.id, a.ok]), [['r3', false]])
})

t.test('two templates reading a staged key make one acknowledgement: failed, with the failing test\'s output, unless both pass', async t => {
  const dir = t.testdir()
  const a = new RenderedFile(compileTemplate('a={{ secret["app/db"].password }}\n', 'a.tpl'), join(dir, 'a.conf'))
  const b = new RenderedFile(compileTemplate('b={{ secret["app/db"].password }}\n', 'b.tpl'), join(dir, 'b.conf'))
  const { client, acks } = scripted([rotation('r6', 'app/db')])
  const controller = new AbortController()
  const done = checkRotations(client, [{ file: a, test: 'true' }, { file: b, test: 'echo b refused; exit 3' }], () => {}, controller.signal, { retestMs: 0, pollMs: 50 })
  await eventually(() => acks.length > 0, 'an acknowledgement')
  controller.abort()
  await done
  t.equal(acks.length, 1, 'one acknowledgement for both')
  t.match(acks[0], { ok: false, message: /^b refused/ })
  t.notMatch(acks[0]?.message, /a\.conf/)
})
