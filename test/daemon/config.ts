import t, { type Test } from 'tap'
import { parseConfig } from '../../lib/daemon/config.js'
import { isLoopback, parseListen } from '../../lib/daemon/listen.js'
import { isCredregError } from '../../lib/errors.js'

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof parseConfig> => parseConfig(argv, env, '0.0.0-test')
const invalid = (t: Test, argv: string[], env: NodeJS.ProcessEnv, pattern: RegExp): void => {
  let error: unknown
  try {
    parse(argv, env)
  } catch (err) {
    error = err
  }
  t.ok(isCredregError(error, 'INVALID_CONFIG'), `INVALID_CONFIG: ${pattern.source}`)
  t.match((error as Error | undefined)?.message, pattern)
}

t.test('defaults', async t => {
  const c = parse(['--data-dir', '/var/lib/credreg'])
  t.match(c, { dataDir: '/var/lib/credreg', socket: '/var/lib/credreg/credregd.sock', namespace: 'default', maxValueBytes: 65536, logLevel: 'info', allowRemote: false, heartbeatMs: 5000, sseHeartbeatMs: 15000 })
  t.equal(c.nats, undefined)
})

t.test('every flag has a CREDREG_* twin; a flag wins over its twin', async t => {
  const env = {
    CREDREG_DATA_DIR: '/d',
    CREDREG_SOCKET: '/run/c.sock',
    CREDREG_NATS: 'nats://a:4222, nats://b:4222',
    CREDREG_NAMESPACE: 'prod',
    CREDREG_HISTORY: '20',
    CREDREG_REPLICAS: '3',
    CREDREG_STREAM_MAX_BYTES: '1073741824',
    CREDREG_MAX_VALUE_BYTES: '4096',
    CREDREG_NODE_ID: 'n1',
    CREDREG_LOG_LEVEL: 'warn',
    CREDREG_KEY_FILE: '/etc/credreg/key',
    CREDREG_NATS_USER: 'u',
    CREDREG_NATS_PASS: 'p',
    CREDREG_LISTEN: '127.0.0.1:8470',
    CREDREG_TOKEN_FILE: '/etc/credreg/token',
    CREDREG_ALLOW_REMOTE: 'false'
  }
  t.match(parse([], env), {
    dataDir: '/d',
    socket: '/run/c.sock',
    nats: ['nats://a:4222', 'nats://b:4222'],
    namespace: 'prod',
    history: 20,
    replicas: 3,
    streamMaxBytes: 1073741824,
    maxValueBytes: 4096,
    nodeId: 'n1',
    logLevel: 'warn',
    keyFile: '/etc/credreg/key',
    natsUser: 'u',
    natsPass: 'p',
    listen: { host: '127.0.0.1', port: 8470 },
    tokenFile: '/etc/credreg/token',
    allowRemote: false
  })
  t.match(parse(['--namespace', 'flag', '--history', '5'], env), { namespace: 'flag', history: 5 })
  t.equal(parse(['--data-dir', '/d'], { CREDREG_ALLOW_REMOTE: 'true' }).allowRemote, true)
  t.same(parse(['--data-dir', '/d', '--scope-key-file', '/k/a.key, /k/b.key']).scopeKeyFiles, ['/k/a.key', '/k/b.key'], 'a flag whose config key is not its commander name (--scope-key-file → scopeKeyFiles)')
  t.same(parse(['--data-dir', '/d', '--scope-key-file', '/k/flag.key'], { CREDREG_SCOPE_KEY_FILE: '/k/env.key' }).scopeKeyFiles, ['/k/flag.key'])
  invalid(t, ['--data-dir', '/d'], { CREDREG_ALLOW_REMOTE: 'maybe' }, /CREDREG_ALLOW_REMOTE must be true or false/)
})

t.test('invalid values are INVALID_CONFIG with the flag named', async t => {
  invalid(t, [], {}, /--data-dir is required/)
  invalid(t, ['--data-dir', '/d', '--history', 'ten'], {}, /--history must be a whole number/)
  invalid(t, ['--data-dir', '/d', '--history', '0'], {}, /--history/)
  invalid(t, ['--data-dir', '/d', '--namespace', 'a.b'], {}, /--namespace/)
  invalid(t, ['--data-dir', '/d', '--log-level', 'loud'], {}, /--log-level/)
  invalid(t, ['--data-dir', '/d', '--socket', '/' + 'x'.repeat(120)], {}, /longer than 107 bytes/)
  invalid(t, ['--data-dir', '/d', '--replicas', '3'], {}, /--replicas applies only with --nats/)
  invalid(t, ['--data-dir', '/d', '--stream-max-bytes', '1073741824'], {}, /--stream-max-bytes applies only with --nats/)
  invalid(t, ['--data-dir', '/d', '--nats-inbox-prefix', '_INBOX_a'], {}, /--nats-inbox-prefix applies only with --nats/)
  invalid(t, ['--data-dir', '/d', '--nats', 'nats://a', '--key-file', '/k', '--nats-inbox-prefix', 'a.>'], {}, /--nats-inbox-prefix/)
  invalid(t, ['--data-dir', '/d', '--nats', 'nats://a', '--key-file', '/k', '--stream-max-bytes', '1000'], {}, /--stream-max-bytes/)
  invalid(t, ['--data-dir', '/d', '--nats', 'nats://a'], {}, /--key-file is required with --nats/)
  invalid(t, ['--data-dir', '/d', '--nats', 'nats://a', '--key-file', '/k', '--nats-user', 'u'], {}, /--nats-user and --nats-pass go together/)
  invalid(t, ['--data-dir', '/d', '--nats', 'nats://a', '--key-file', '/k', '--nats-tls-cert', '/c'], {}, /--nats-tls-cert and --nats-tls-key go together/)
  invalid(t, ['--data-dir', '/d', '--listen', '127.0.0.1:1'], {}, /--listen needs --token-file/)
  invalid(t, ['--data-dir', '/d', '--listen', '10.0.0.1:1', '--token-file', '/t'], {}, /not a loopback address/)
  invalid(t, ['--data-dir', '/d', '--listen', 'nonsense', '--token-file', '/t'], {}, /--listen must be HOST:PORT/)
})

t.test('a non-loopback --listen needs --allow-remote and TLS, refused before anything binds', async t => {
  const base = ['--data-dir', '/d', '--token-file', '/t', '--allow-remote']
  for (const listen of ['0.0.0.0:0', '[::]:0', '10.0.0.1:1']) {
    invalid(t, [...base, '--listen', listen], {}, /is not a loopback address: serving other hosts needs TLS \(--tls-cert and --tls-key\)/)
  }
  const tls = ['--tls-cert', 'cert.pem', '--tls-key', 'key.pem']
  const c = parse([...base, '--listen', '0.0.0.0:0', ...tls])
  t.match(c, { listen: { host: '0.0.0.0', port: 0 }, tlsCert: /^\/.*\/cert\.pem$/, tlsKey: /^\/.*\/key\.pem$/ }, 'relative paths resolved')
  t.match(parse([], { CREDREG_DATA_DIR: '/d', CREDREG_TOKEN_FILE: '/t', CREDREG_LISTEN: '127.0.0.1:0', CREDREG_TLS_CERT: '/c', CREDREG_TLS_KEY: '/k' }), { tlsCert: '/c', tlsKey: '/k' }, 'environment twins')
  t.notOk(parse(['--data-dir', '/d', '--token-file', '/t', '--listen', '127.0.0.1:0']).tlsCert, 'loopback may stay plain')
  invalid(t, [...base, '--listen', '127.0.0.1:0', '--tls-cert', '/c'], {}, /--tls-cert and --tls-key go together/)
  invalid(t, ['--data-dir', '/d', ...tls], {}, /apply only with --listen/)
})

t.test('--listen addresses and the loopback rule', async t => {
  t.same(parseListen('127.0.0.1:8470'), { host: '127.0.0.1', port: 8470 })
  t.same(parseListen('[::1]:8470'), { host: '::1', port: 8470 })
  t.same(parseListen(':8470'), { host: '127.0.0.1', port: 8470 })
  t.same(parseListen('localhost:0'), { host: 'localhost', port: 0 })
  for (const bad of ['8470', '127.0.0.1', '127.0.0.1:99999', '[nope]:1', 'a:b']) t.throws(() => parseListen(bad), bad)
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) t.ok(isLoopback(host), host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1']) t.notOk(isLoopback(host), host)
})

t.test('--admin-socket: in the data dir by default, CREDREG_ADMIN_SOCKET its twin, at most 107 bytes, never the apps\' socket', async t => {
  t.equal(parse(['--data-dir', '/var/lib/credreg']).adminSocket, '/var/lib/credreg/credregd-admin.sock')
  t.equal(parse(['--data-dir', '/d'], { CREDREG_ADMIN_SOCKET: '/run/a.sock' }).adminSocket, '/run/a.sock')
  t.equal(parse(['--data-dir', '/d', '--admin-socket', '/run/b.sock'], { CREDREG_ADMIN_SOCKET: '/run/a.sock' }).adminSocket, '/run/b.sock')
  invalid(t, ['--data-dir', '/d', '--admin-socket', '/' + 'x'.repeat(120)], {}, /--admin-socket \/x+ is longer than 107 bytes/)
  invalid(t, ['--data-dir', '/d', '--socket', '/run/c.sock', '--admin-socket', '/run/c.sock'], {}, /--admin-socket and --socket are both \/run\/c\.sock/)
})
