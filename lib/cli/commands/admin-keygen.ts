/**
 * `credreg admin keygen --out FILE`: a new Ed25519 admin key (PKCS#8 PEM,
 * mode 0600, never overwritten); prints its public key. With `--scope
 * PREFIX`: a new 32-byte data key for that read scope instead; prints its
 * key id and what to do with it.
 */
import { resolve } from 'node:path'
import { keyId } from '../../authenticator.js'
import { SigningKey } from '../../identity/signing-key.js'
import { readKeyFile, writeNewKeyFile } from '../../key-file.js'
import type { CommandContext } from '../context.js'

export interface AdminKeygenInput {
  out: string
  scope?: string
}

export async function run (ctx: CommandContext, { out, scope }: AdminKeygenInput): Promise<void> {
  const path = resolve(out)
  if (scope === undefined) {
    const key = SigningKey.generate()
    await key.writeFile(path)
    ctx.out.result({ path, publicKey: key.publicKey }, () => {
      ctx.out.line(`wrote a new Ed25519 admin key to ${path} (mode 0600); keep it off the fleet`)
      ctx.out.line(`public key ${key.publicKey}`)
    })
    return
  }
  await writeNewKeyFile(path)
  const kid = keyId(await readKeyFile(path))
  ctx.out.result({ path, scope, kid }, () => {
    ctx.out.line(`wrote a new 32-byte data key for the read scope ${JSON.stringify(scope)} to ${path} (mode 0600)`)
    ctx.out.line(`key id ${kid}`)
    ctx.out.line('next:')
    ctx.out.line(`  1. give it to every host that reads ${scope === '' ? 'the namespace' : scope}: credregd --scope-key-file ${path} (restart each daemon)`)
    ctx.out.line(`  2. make it the scope's current key: credreg admin rotate-key${scope === '' ? '' : ` --scope ${scope}`} --kid ${kid} --reseal --admin-key ADMIN.key`)
  })
}
