/**
 * Compile-time checks, run by `tsc -p .` (tap finds no runtime test here):
 * the public types, the HTTP API's schemas and the client agree. A mismatch
 * fails the build.
 */
import type { Operation } from 'fast-json-patch'
import type { Static } from 'typebox'
import type { GetQuerySchema, ListQuerySchema, WatchQuerySchema } from '../../lib/http/schemas.js'
import type { LoosePatchOperationSchema } from '../../lib/shapes/json.js'
import type * as Http from '../../lib/http/schemas.js'
import type {
  AbortOptions, AckOptions, ChangeEvent, ClientHistoryEntry, ClientWriteResult, CredregAdmin, CredregClient, CredregNode, CredregReader, CredregRotations, CredregWriter,
  DaemonStatus, Entity, EntityMeta, HistoryEntry, JsonObject, ListOptions, ListPage, NodeInfo, NodeStatus, PatchOperation,
  ReleaseOptions, ReseedResult, Rotation, RotationEvent, StageOptions, WatchOptions, WriteResult
} from '../../lib/index.js'

/** `true` exactly when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
/** `true` exactly when `A` is assignable to `B`. */
type Extends<A, B> = [A] extends [B] ? true : false
/** An intersection as one object type, for {@link Equal}. */
type Flat<T> = { [K in keyof T]: T[K] }

// What the routes answer is what the node returns and the client hands back.
export const entity: Equal<Static<typeof Http.EntitySchema>, Entity> = true
export const listPage: Equal<Static<typeof Http.ListPageSchema>, ListPage> = true
export const reseed: Equal<Static<typeof Http.ReseedResultSchema>, ReseedResult> = true
export const status: Equal<Static<typeof Http.DaemonStatusSchema>, DaemonStatus> = true
export const nodeRow: Equal<Static<typeof Http.NodesSchema>, NodeInfo[]> = true
export const historyBody: Equal<Static<typeof Http.HistoryBodySchema>, { key: string, versions: ClientHistoryEntry[] }> = true
export const writeBody: Equal<Static<typeof Http.WriteBodySchema>, Pick<ClientWriteResult, 'key' | 'version'>> = true
export const rotation: Equal<Static<typeof Http.RotationSchema>, Rotation> = true
export const rotationList: Equal<Static<typeof Http.RotationListSchema>, { rotations: Rotation[] }> = true
export const rotationEvent: Equal<Static<typeof Http.RotationEventSchema>, RotationEvent> = true

// A rotation's options are its request bodies, less the correlation id (a header) and the changes (an argument).
export const stageBody: Equal<Omit<Static<typeof Http.StageBodySchema>, 'changes'>, Omit<StageOptions, 'correlationId'>> = true
export const ackBody: Equal<Static<typeof Http.AckBodySchema>, Omit<AckOptions, 'correlationId'>> = true
export const releaseBody: Equal<Static<typeof Http.ReleaseBodySchema>, Omit<ReleaseOptions, 'correlationId'>> = true
export const abortBody: Equal<Static<typeof Http.AbortBodySchema>, Omit<AbortOptions, 'correlationId'>> = true

// The client's shapes are the node's, less what the daemon does not send.
export const clientHistory: Equal<ClientHistoryEntry, Omit<HistoryEntry, 'value'>> = true
export const clientWrite: Equal<ClientWriteResult, Flat<Omit<WriteResult, 'seq' | 'correlationId'> & Partial<Pick<WriteResult, 'correlationId'>>>> = true
export const nodeWriteIsClientWrite: Extends<WriteResult, ClientWriteResult> = true
export const nodeHistoryIsClientHistory: Extends<HistoryEntry, ClientHistoryEntry> = true

// Entities, history and change events share the meta, the values and the patches.
export const meta: Equal<HistoryEntry['meta'] | ChangeEvent['meta'], EntityMeta> = true
export const values: Equal<NonNullable<ChangeEvent['value'] | HistoryEntry['value'] | Entity['value']>, JsonObject> = true
export const patches: Equal<PatchOperation, Operation> = true
export const looseWirePatch: Extends<Operation, Static<typeof LoosePatchOperationSchema>> = true

// The node's status and the daemon's agree on what they share.
type Shared = 'nodeId' | 'mode' | 'namespace' | 'appliedSeq' | 'logSeq' | 'lag' | 'entities' | 'rejected' | 'diverged'
export const sharedStatus: Equal<Pick<DaemonStatus, Shared>, Pick<NodeStatus, Shared>> = true

// The options stay TS interfaces: they agree with the query strings that carry them.
export const getQuery: Equal<Static<typeof GetQuerySchema>, NonNullable<Parameters<CredregReader['get']>[1]>> = true
export const listQuery: Equal<Omit<Static<typeof ListQuerySchema>, 'prefix'>, ListOptions> = true
export const watchQuery: Equal<Static<typeof WatchQuerySchema>['since'], WatchOptions['since']> = true

// A node plays every role; a client plays them with its own shapes, and so does a node.
type ClientRoles = CredregReader<ClientHistoryEntry> & CredregWriter<ClientWriteResult> & CredregRotations & CredregAdmin
export const nodeRoles: Extends<CredregNode, CredregReader & CredregWriter & CredregRotations & CredregAdmin> = true
export const clientRoles: Extends<CredregClient, ClientRoles> = true
export const nodeAsClient: Extends<CredregNode, ClientRoles> = true
