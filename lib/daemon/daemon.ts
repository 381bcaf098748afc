/**
 * The daemon's lifecycle: open the node (which locks the data directory),
 * read the scoped tokens, start heartbeats in cluster mode, serve the HTTP
 * API on the apps' unix socket, on the admin socket (with the admin routes)
 * and optionally on TCP; on close, stop accepting, finish the requests in
 * flight, close the node and remove the sockets.
 */
import { mkdir, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { Metrics } from '../http/metrics.js'
import { createHttpServer } from '../http/server.js'
import { readKeyFile, writeNewKeyFile } from '../key-file.js'
import { readNatsSecrets } from '../log/connect.js'
import { onApplied, openNode } from '../node.js'
import { StageTimings } from '../timings/stage-timings.js'
import type { SelfInfo } from '../peers/heartbeat.js'
import { soloNodes } from '../peers/nodes-view.js'
import { startPeers, type Peers } from '../peers/peers.js'
import { readTokenFile } from '../secret-file.js'
import type { CredregNode, NatsOptions } from '../types.js'
import { credregVersion } from '../version.js'
import { logApplied } from './applied-log.js'
import type { DaemonConfig } from './config.js'
import { readListenerTls } from './listener-tls.js'
import type { ListenAddress } from './listen.js'
import { NatsLink } from './nats-link.js'
import { logRotations } from './rotation-log.js'
import { TokenStore } from './token-store.js'
import { ADMIN_SOCKET_MODE, claimSocketPath, listenOnSocket, removeSocket } from './unix-socket.js'

/** Request bodies may exceed the value limit by this much (JSON whitespace, patch envelopes). */
const BODY_SLACK_BYTES = 16 * 1024

/** A running daemon. */
export interface Daemon extends AsyncDisposable {
  readonly nodeId: string
  readonly socket: string
  /** The admin socket (mode 0600): the admin routes, and every other route with full rights. */
  readonly adminSocket: string
  /** The TCP listener's bound address, with `--listen`. */
  readonly tcp: ListenAddress | undefined
  /** Stops accepting, finishes requests in flight, closes the node, removes the socket. Idempotent. */
  close: () => Promise<void>
}

/**
 * Starts a daemon. Fails with `INVALID_CONFIG` (key file, token file, tokens
 * file, socket in use) or `DATA_DIR_LOCKED` (another process has the data directory), and
 * then leaves nothing running and touches nothing of the other process.
 */
export async function startDaemon (config: DaemonConfig, logger: Logger): Promise<Daemon> {
  const closers: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((err: unknown) => logger.error({ err }, 'error while shutting down'))
    }
  }
  try {
    const info: SelfInfo = { hostname: hostname(), startedAt: new Date(), version: credregVersion() }
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
    const dataKey = await loadDataKey(config, logger)
    // Refused secrets files fail the start, not every connect attempt in the background.
    if (config.nats !== undefined) await readNatsSecrets(natsOptions(config))
    const token = config.listen === undefined ? undefined : await readTokenFile(config.tokenFile as string)
    const tokens = await TokenStore.open(join(config.dataDir, 'tokens.json'))
    const https = config.tlsCert === undefined || config.tlsKey === undefined ? undefined : await readListenerTls(config.tlsCert, config.tlsKey)

    // Timed always: a few marks per write, and what an operator reads to see where a slow write went.
    const timings = new StageTimings()
    const node = await openNode({
      dataDir: config.dataDir,
      dataKey,
      ...(config.scopeKeyFiles !== undefined ? { scopeKeys: config.scopeKeyFiles.map(file => ({ file })) } : {}),
      namespace: config.namespace,
      ...(config.nats !== undefined ? { nats: natsOptions(config) } : {}),
      ...(config.history !== undefined ? { historyDepth: config.history } : {}),
      maxValueBytes: config.maxValueBytes,
      ...(config.nodeId !== undefined ? { nodeId: config.nodeId } : {}),
      ...(config.writeTimeoutMs !== undefined ? { writeTimeoutMs: config.writeTimeoutMs } : {}),
      ...(config.maxWatchers !== undefined ? { maxWatchers: config.maxWatchers } : {}),
      ...(config.maxWatchReplays !== undefined ? { maxWatchReplays: config.maxWatchReplays } : {}),
      logger: logger.child({ component: 'node' }),
      timings
    })
    closers.push(async () => await node.close())
    const log = logger.child({ nodeId: node.nodeId, namespace: node.namespace })

    const metrics = new Metrics()
    timings.register(metrics.registry)
    const stopCommitStamps = onApplied(node, changes => { timings.committed(changes) })
    closers.push(async () => { stopCommitStamps() })
    const stopLogging = logApplied(node, metrics, log)
    closers.push(async () => { stopLogging() })
    const stopRotationLog = logRotations(node, metrics, log)
    closers.push(async () => { stopRotationLog() })

    const peers = config.nats === undefined ? undefined : startPeering(config, node, info, metrics, log)
    if (peers !== undefined) closers.push(peers.close)

    const context = { node, peers: peers ?? soloNodes(node, info), metrics, timings, info, sseHeartbeatMs: config.sseHeartbeatMs, tokens }
    const bodyLimit = config.maxValueBytes + BODY_SLACK_BYTES
    await claimSocketPath(config.socket)
    await claimSocketPath(config.adminSocket)
    const unixApp = await createHttpServer({ context, logger: log, bodyLimit, auth: { listener: 'apps', tokens } })
    closers.push(async () => { await unixApp.close(); await removeSocket(config.socket) })
    await listenOnSocket(unixApp, config.socket)
    const adminApp = await createHttpServer({ context, logger: log.child({ listener: 'admin' }), bodyLimit, auth: { listener: 'admin' } })
    closers.push(async () => { await adminApp.close(); await removeSocket(config.adminSocket) })
    await listenOnSocket(adminApp, config.adminSocket, ADMIN_SOCKET_MODE)

    let tcp: ListenAddress | undefined
    if (config.listen !== undefined) {
      const tcpApp = await createHttpServer({ context, logger: log, bodyLimit, auth: { listener: 'tcp', token: token as string, tokens }, ...(https !== undefined ? { https } : {}) })
      closers.push(async () => await tcpApp.close())
      await tcpApp.listen({ host: config.listen.host, port: config.listen.port })
      const address = tcpApp.server.address()
      tcp = typeof address === 'object' && address !== null ? { host: address.address, port: address.port } : config.listen
    }

    log.info({ socket: config.socket, adminSocket: config.adminSocket, tokens: tokens.size, tcp, tls: https !== undefined, mode: config.nats === undefined ? 'standalone' : 'cluster', version: info.version }, 'ready')
    return { nodeId: node.nodeId, socket: config.socket, adminSocket: config.adminSocket, tcp, close, [Symbol.asyncDispose]: close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Membership records (written every interval, read when asked) over the daemon's own NATS connection, made in the background. */
function startPeering (config: DaemonConfig, node: CredregNode, self: SelfInfo, metrics: Metrics, logger: Logger): Peers {
  const link = new NatsLink({ ...natsOptions(config), name: `credregd ${node.nodeId} heartbeat` }, logger)
  const peers = startPeers({ node, nc: link.connected, self, intervalMs: config.heartbeatMs, ...(config.replicas !== undefined ? { replicas: config.replicas } : {}), logger, onIgnored: (kind, reason) => { metrics.peerMessageIgnored(kind, reason) } })
  const close = async (): Promise<void> => {
    // Closing the link first ends a connect loop still waiting for NATS.
    const closingLink = link.close()
    await peers.close()
    await closingLink
  }
  return { nodes: async key => await peers.nodes(key), close, [Symbol.asyncDispose]: close }
}

/** The data key: `--key-file`, or in standalone mode `<data-dir>/credregd.key`, created on first start. */
async function loadDataKey (config: DaemonConfig, logger: Logger): Promise<Uint8Array> {
  if (config.keyFile !== undefined) return await readKeyFile(config.keyFile)
  const path = join(config.dataDir, 'credregd.key')
  const exists = await stat(path).then(() => true, () => false)
  if (!exists) {
    try {
      await writeNewKeyFile(path)
      logger.info({ keyFile: path }, 'generated a data key for standalone mode')
    } catch (err) {
      // Another process may have created it in between: that key is as good.
      if (!await stat(path).then(() => true, () => false)) throw err
    }
  }
  return await readKeyFile(path)
}

/** NATS options from the `--nats*` flags. */
function natsOptions (config: DaemonConfig): NatsOptions {
  const tls = {
    ...(config.natsTlsCa !== undefined ? { caFile: config.natsTlsCa } : {}),
    ...(config.natsTlsCert !== undefined ? { certFile: config.natsTlsCert } : {}),
    ...(config.natsTlsKey !== undefined ? { keyFile: config.natsTlsKey } : {})
  }
  return {
    servers: config.nats ?? [],
    ...(config.natsUser !== undefined ? { user: config.natsUser } : {}),
    ...(config.natsPass !== undefined ? { pass: config.natsPass } : {}),
    ...(config.natsToken !== undefined ? { token: config.natsToken } : {}),
    ...(config.natsCreds !== undefined ? { credsFile: config.natsCreds } : {}),
    ...(config.natsNkey !== undefined ? { nkeyFile: config.natsNkey } : {}),
    ...(config.natsInboxPrefix !== undefined ? { inboxPrefix: config.natsInboxPrefix } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
    ...(config.streamMaxBytes !== undefined ? { maxBytes: config.streamMaxBytes } : {})
  }
}
