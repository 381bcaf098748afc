/**
 * credreg: a shared credential register. `openNode` embeds a replica in this
 * process, `startPeers` lists it among the other nodes of its namespace;
 * `connect` (the client) talks to the host's `credregd`.
 */
export { openNode } from './node.js'
export { startPeers } from './peers/peers.js'
export type { Peers, PeersOptions } from './peers/peers.js'
export type { SelfInfo } from './peers/heartbeat.js'
export type { IgnoreReason, PeerMessageKind } from './peers/ignored-messages.js'
export { connect, CredregClient } from './client/client.js'
export type { AuditEntry, AuditPage, AuditQuery, CacheOptions, CacheStatus, CacheWatchStatus, ConnectOptions, ClientWriteResult, ClientHistoryEntry, DaemonStatus, NodeInfo, PolicyVersion, ReconnectOptions, ResealResult, StageSummary, Timings } from './client/types.js'
export type { CreatedToken, CreateTokenBody, TokenInfo } from './shapes/token.js'
export { ChangesetError, CredregError, VersionConflictError, isCredregError, ERROR_CODES } from './errors.js'
export type { ErrorCode, ErrorSpec } from './errors.js'
export type { NodePropagationStage, NodeWriteStage, PropagationStage, TimingHook, WriteStage } from './timings/stages.js'
export type * from './types.js'
