/** Record signatures: what verifies and what does not, signed in this process or elsewhere. */
import t from 'tap'
import { signedMessage, signRecord, verifyRecord, verifyRecordAsync, type RecordSignature } from '../../lib/identity/signature.js'
import { SigningKey } from '../../lib/identity/signing-key.js'

const key = SigningKey.generate()
const other = SigningKey.generate()
const record = (n: number): { key: string, version: number, meta: { nodeId: string } } => ({ key: `svc/${n}/db`, version: n, meta: { nodeId: 'a' } })

async function both (r: { sig: RecordSignature }): Promise<[boolean, boolean]> {
  return [verifyRecord(r), await verifyRecordAsync(r)]
}

t.test('a record signed in this process verifies, as a copy read back from the log', async t => {
  const signed = signRecord(record(1), key)
  t.same(await both(JSON.parse(JSON.stringify(signed)) as typeof signed), [true, true])
})

t.test('a record signed elsewhere verifies', async t => {
  const r = record(2)
  const signed = { ...r, sig: { pub: key.publicKey, sig: key.sign(signedMessage(r)) } }
  t.same(await both(signed), [true, true])
})

t.test('a signature made in this process does not verify over another message', async t => {
  const signed = signRecord(record(3), key)
  const changed = { ...signed, version: 4 }
  t.same(await both(changed), [false, false], 'a field changed')
  const moved = { ...record(5), sig: signed.sig }
  t.same(await both(moved), [false, false], 'on another record')
})

t.test('a signature made in this process does not verify under another key', async t => {
  const signed = signRecord(record(6), key)
  const claimed = { ...signed, sig: { ...signed.sig, pub: other.publicKey } }
  t.same(await both(claimed), [false, false])
})
