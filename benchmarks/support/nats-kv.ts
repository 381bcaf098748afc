/** The NATS KV peer: one bucket per scenario on the run's nats-server, deleted afterwards. */
import { Kvm, type KV } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { BenchEnv } from './env.js'
import { key, valueBytes } from './data.js'
import { pipelined } from './stats.js'

export interface Bucket extends AsyncDisposable {
  readonly kv: KV
  /** The same bucket over a second connection: another host. */
  remote: () => Promise<KV>
}

/** Creates bucket `name` keeping `history` values per key. */
export async function openBucket (env: BenchEnv, name: string, history = 1): Promise<Bucket> {
  const kvm = new Kvm(env.nc)
  const kv = await kvm.create(name, { history })
  const others: NatsConnection[] = []
  return {
    kv,
    remote: async () => {
      const nc = await connect({ servers: env.nats.url, name: `bench ${name} remote` })
      others.push(nc)
      return await new Kvm(nc).open(name)
    },
    [Symbol.asyncDispose]: async () => {
      await Promise.all(others.map(async nc => await nc.close()))
      await kv.destroy()
    }
  }
}

/** Puts keys 0‥count-1, 64 at a time; resolves with each key's revision. */
export async function loadBucket (kv: KV, count: number, onDone?: (done: number) => void): Promise<number[]> {
  const revisions = new Array<number>(count).fill(0)
  await pipelined(count, 64, async (n) => { revisions[n] = await kv.put(key(n), valueBytes(n)) }, onDone)
  return revisions
}
