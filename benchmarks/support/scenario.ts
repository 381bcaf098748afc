/** What a scenario module exports, and running a system that may be missing (the daemon, etcd). */
import { rm } from 'node:fs/promises'
import { scratchDir } from './credreg.js'
import { startBenchDaemon, type BenchDaemon } from './daemon.js'
import type { BenchEnv } from './env.js'
import { startEtcd } from './etcd-server.js'
import { openEtcd, type EtcdSpace } from './etcd.js'
import type { Row } from './results.js'
import { missingRow } from './rows.js'

export interface Scenario {
  /** Stable id, used by `--only` and in the results file. */
  id: string
  /** Measures every system in `env`, pushing one or more rows per system to `rows` as it goes. */
  run: (env: BenchEnv, rows: Row[]) => Promise<void>
}

/**
 * Starts a daemon on `namespace`, waits until it has applied through
 * `appliedSeq` and runs `measure` with it, then stops it and removes its data;
 * without a daemon, pushes the row that says why.
 */
export async function withDaemon (
  env: BenchEnv, rows: Row[], scenario: string, namespace: string, appliedSeq: number, measure: (daemon: BenchDaemon) => Promise<void>
): Promise<void> {
  if (env.daemonUnavailable !== undefined) {
    rows.push(missingRow(scenario, 'credreg daemon', 'unavailable', env.daemonUnavailable))
    return
  }
  const dir = await scratchDir(env, `${scenario}-d`)
  const daemon = await startBenchDaemon({ natsUrl: env.nats.url, keyFile: env.keyFile, namespace, dir })
  try {
    await daemon.waitApplied(appliedSeq)
    await measure(daemon)
  } finally {
    await daemon[Symbol.asyncDispose]()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Starts a fresh etcd for `measure`, with clients on prefix `name/`; without etcd, pushes the "not installed" row. */
export async function withEtcd (env: BenchEnv, rows: Row[], scenario: string, name: string, measure: (space: EtcdSpace) => Promise<void>): Promise<void> {
  if (env.etcdBinary === undefined) {
    rows.push(missingRow(scenario, 'etcd', 'not installed', 'no etcd binary on PATH (Debian package etcd-server)'))
    return
  }
  await using server = await startEtcd(env.etcdBinary)
  await using space = openEtcd(server, name)
  await measure(space)
}
