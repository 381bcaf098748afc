import t from 'tap'
import { connectionOptions } from '../../lib/log/connect.js'
import { redactUrl, splitCredentials } from '../../lib/log/nats-url.js'

t.test('credentials are split off a server URL', async t => {
  t.same(splitCredentials('nats://u:p%40ss@127.0.0.1:4222'), { server: 'nats://127.0.0.1:4222', user: 'u', pass: 'p@ss' })
  t.same(splitCredentials('tls://s3cr3t-token@nats.example:4222'), { server: 'tls://nats.example:4222', token: 's3cr3t-token' })
  t.same(splitCredentials('u:pw@127.0.0.1:4222'), { server: 'nats://127.0.0.1:4222', user: 'u', pass: 'pw' })
  t.same(splitCredentials('nats://127.0.0.1:4222'), { server: 'nats://127.0.0.1:4222' })
  t.same(splitCredentials('127.0.0.1:4222'), { server: '127.0.0.1:4222' })
})

t.test('a URL shown anywhere has its credentials redacted, parsable or not', async t => {
  t.equal(redactUrl('nats://u:pw@127.0.0.1:4222'), 'nats://[redacted]@127.0.0.1:4222')
  t.equal(redactUrl('tok@h:1'), '[redacted]@h:1')
  t.equal(redactUrl('nats://a:b@c@d:1'), 'nats://[redacted]@d:1', 'an @ in the password')
  t.equal(redactUrl('nats://h:4222'), 'nats://h:4222')
})

t.test('nats.js gets the credentials of a URL as options, and the URL without them', async t => {
  t.match(connectionOptions({ servers: ['nats://u:pw@127.0.0.1:1', 'nats://127.0.0.1:2'] }), { servers: ['nats://127.0.0.1:1', 'nats://127.0.0.1:2'], user: 'u', pass: 'pw' })
  t.match(connectionOptions({ servers: 'nats://tok@127.0.0.1:1' }), { servers: ['nats://127.0.0.1:1'], token: 'tok' })
  const given = connectionOptions({ servers: ['nats://u:pw@127.0.0.1:1'], user: 'other', pass: 'x' })
  t.match(given, { servers: ['nats://127.0.0.1:1'], user: 'other', pass: 'x' }, 'options given apart win')
})
