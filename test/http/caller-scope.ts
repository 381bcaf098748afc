/**
 * The scope of a caller (lib/http/caller-scope.ts): which keys, prefixes and
 * rotation acts a token covers, table by table; and the route table
 * (lib/http/route-access.ts) names only routes the server has.
 */
import { pino } from 'pino'
import t from 'tap'
import { TokenStore } from '../../lib/daemon/token-store.js'
import { CallerScope } from '../../lib/http/caller-scope.js'
import { Metrics } from '../../lib/http/metrics.js'
import { ROUTE_ACCESS } from '../../lib/http/route-access.js'
import { createHttpServer } from '../../lib/http/server.js'
import { shortTempDir } from '../fixtures/daemon.js'
import { newDataKey, testNode } from '../fixtures/nodes.js'
import { StageTimings } from '../../lib/timings/stage-timings.js'

const billing = CallerScope.of({ name: 'billing', read: ['svc/a/', 'shared/'], write: ['svc/a/'], rotations: false })

t.test('canRead and canWrite: a key is covered when it starts with one of the prefixes', async t => {
  const cases: Array<[string, boolean, boolean]> = [
    ['svc/a/db', true, true],
    ['svc/a/deep/er/key', true, true],
    ['shared/ca', true, false],
    ['svc/b/db', false, false],
    ['svc/ab', false, false],
    ['svc/a', false, false],
    ['shared', false, false],
    ['other', false, false]
  ]
  for (const [key, read, write] of cases) {
    t.equal(billing.canRead(key), read, `read ${key}`)
    t.equal(billing.canWrite(key), write, `write ${key}`)
  }
})

t.test('canReadPrefix: a listing or watch prefix must lie within a read prefix', async t => {
  const cases: Array<[string, boolean]> = [
    ['svc/a/', true], ['svc/a/d', true], ['shared/', true], ['shared/x/', true],
    ['svc/a', false], ['svc/', false], ['', false], ['svc/b/', false], ['shared', false]
  ]
  for (const [prefix, ok] of cases) t.equal(billing.canReadPrefix(prefix), ok, JSON.stringify(prefix))
})

t.test('rotations: the grant, and seeing a rotation by reading every key it stages', async t => {
  const ops = CallerScope.of({ name: 'ops', read: [], write: ['svc/'], rotations: true })
  t.equal(billing.rotations, false)
  t.equal(ops.rotations, true)
  t.equal(billing.canSeeRotation(['svc/a/db', 'shared/x']), true)
  t.equal(billing.canSeeRotation(['svc/a/db', 'svc/b/db']), false, 'one key out of reach hides the rotation')
  t.equal(ops.canSeeRotation(['anything']), true, 'the rotations grant sees every rotation')
  t.throws(() => billing.assertRotations('release'), { code: 'FORBIDDEN', message: 'token billing: the rotations grant is missing, which a rotation\'s release needs' })
  t.doesNotThrow(() => ops.assertRotations('release'))
})

t.test('refusals are FORBIDDEN naming the token, the key and the grant missing', async t => {
  t.throws(() => billing.assertRead('svc/b/db'), { code: 'FORBIDDEN', status: 403, key: 'svc/b/db', message: 'token billing: no read grant covers the key svc/b/db' })
  t.throws(() => billing.assertWrite('shared/ca'), { code: 'FORBIDDEN', key: 'shared/ca', message: 'token billing: no write grant covers the key shared/ca' })
  t.throws(() => billing.assertReadPrefix('svc/'), { code: 'FORBIDDEN', message: /no read grant covers every key under the prefix "svc\/"/ })
  t.doesNotThrow(() => { billing.assertRead('svc/a/x'); billing.assertWrite('svc/a/x'); billing.assertReadPrefix('svc/a/') })
})

t.test('full rights cover everything', async t => {
  const full = CallerScope.full()
  t.equal(full.isFull, true)
  t.equal(full.token, undefined)
  t.ok(full.canRead('x') && full.canWrite('x') && full.canReadPrefix('') && full.rotations && full.canSeeRotation(['x']))
  t.equal(billing.isFull, false)
  t.equal(billing.token, 'billing')
})

t.test('a scope is a copy: changing the prefixes it was made from changes nothing', async t => {
  const read = ['a/']
  const scope = CallerScope.of({ name: 'n', read, write: [], rotations: false })
  read.push('b/')
  t.equal(scope.canRead('b/x'), false)
})

t.test('every route of the access table is a route of the API', async t => {
  const node = await testNode(t, { dataKey: newDataKey() })
  const tokens = await TokenStore.open(`${await shortTempDir(t)}/tokens.json`)
  const app = await createHttpServer({
    context: { node, peers: { nodes: async () => [] }, metrics: new Metrics(), timings: new StageTimings(), info: { hostname: 'test', startedAt: new Date(), version: '0.0.0' }, sseHeartbeatMs: 15_000, tokens },
    logger: pino({ level: 'silent' }),
    bodyLimit: 1024 * 1024,
    auth: { listener: 'apps', tokens }
  })
  t.teardown(() => app.close())
  for (const route of Object.keys(ROUTE_ACCESS)) {
    const [method, url] = route.split(' ') as [string, string]
    t.ok(app.hasRoute({ method: method as 'GET', url }), route)
  }
  t.notOk(app.hasRoute({ method: 'POST', url: '/v1/admin/reseed' }), 'no admin route on the apps\' socket')
})
