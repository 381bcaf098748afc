import t from 'tap'
import { connect } from '../../lib/client/client.js'

const token = 'transport-token-0123456789abcdef0123'

t.test('a token is never offered over plain HTTP to another host: connect throws before any connection', async t => {
  for (const url of ['http://10.1.2.3:7420', 'http://credreg.example', 'http://[2001:db8::1]:7420', 'http://0.0.0.0:7420']) {
    // Synchronous: no request was made, no socket opened, no name resolved.
    t.throws(() => connect({ url, token }), { code: 'INVALID_CONFIG', message: /refusing to send the bearer token over plain HTTP to .* which is not a loopback address; use an https: URL/ }, url)
  }
})

t.test('plain HTTP to a loopback address and HTTPS to any host are accepted', async t => {
  for (const url of ['http://127.0.0.1:7420', 'http://localhost:7420', 'http://[::1]:7420', 'https://10.1.2.3:7420', 'https://credreg.example']) {
    const client = connect({ url, token })
    await client.close()
    t.pass(url)
  }
  t.throws(() => connect({ url: 'http://127.0.0.1:7420', token, ca: 'pem' }), TypeError, 'a CA for a plain URL is a mistake')
})
