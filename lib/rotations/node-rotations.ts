/**
 * A node's staged rotations (the `CredregRotations` role): stage, read,
 * acknowledge, release, abort, and the staged value of a key. The node hands
 * it its replica and writers once open; every write goes through `track`, so
 * the node's close waits for it.
 */
import { validate as isUuid } from 'uuid'
import { CredregError } from '../errors.js'
import { MAX_ROTATION_HOSTS } from '../records/rotation-record.js'
import { storedVersionsOfChangeset } from '../replica/apply-batch.js'
import type { Replica } from '../replica/replica.js'
import type { AbortOptions, AckOptions, Change, Entity, ReleaseOptions, Rotation, StageOptions } from '../types.js'
import type { ChangesetWriter } from '../write/changeset-writer.js'
import type { Decision, RotationWriter } from '../write/rotation-writer.js'
import { rotationOf } from './rotation-view.js'

/** What the rotations of an open node work with. */
export interface NodeRotationsOptions {
  replica: Replica
  changesets: ChangesetWriter
  decisions: RotationWriter
  /** The node's id: the one host a stage waits for when none is named. */
  nodeId: string
  /** Runs a write so that the node's close waits for it. */
  track: <T>(write: Promise<T>) => Promise<T>
}

const NODE_ID = /^[A-Za-z0-9_.-]{1,128}$/

export class NodeRotations {
  readonly #o: NodeRotationsOptions

  constructor (options: NodeRotationsOptions) {
    this.#o = options
  }

  async stage (changes: Change[], options: StageOptions = {}): Promise<Rotation> {
    const hosts = options.hosts ?? [this.#o.nodeId]
    checkHosts(hosts)
    const { deadlineSeconds } = options
    if (deadlineSeconds !== undefined && (!Number.isSafeInteger(deadlineSeconds) || deadlineSeconds < 1)) {
      throw new CredregError('BAD_REQUEST', `deadlineSeconds must be an integer of at least 1, got ${JSON.stringify(deadlineSeconds)}`)
    }
    const deadline = deadlineSeconds === undefined ? undefined : new Date(Date.now() + deadlineSeconds * 1000).toISOString()
    const staged = await this.#o.track(this.#o.changesets.stage(changes, {
      hosts,
      ...(deadline !== undefined ? { deadline } : {}),
      ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {})
    }))
    return await this.rotation(staged.id)
  }

  async rotation (id: string): Promise<Rotation> {
    if (typeof id !== 'string' || !isUuid(id)) throw new CredregError('BAD_REQUEST', `a rotation id is a uuid, got ${JSON.stringify(id)}`)
    const stored = await this.#o.replica.rotation(id)
    if (stored === undefined) throw new CredregError('NOT_FOUND', `no rotation ${id} was staged`)
    return rotationOf(stored)
  }

  async rotations (): Promise<Rotation[]> {
    return (await this.#o.replica.openRotations()).map(stored => rotationOf(stored))
  }

  async ack (id: string, options: AckOptions): Promise<Rotation> {
    if (typeof options?.ok !== 'boolean') throw new CredregError('BAD_REQUEST', 'an acknowledgement says ok: true or false')
    if (options.message !== undefined && typeof options.message !== 'string') throw new CredregError('BAD_REQUEST', 'an acknowledgement\'s message is a string')
    return await this.#decide(id, { op: 'ack', ok: options.ok, ...(options.message !== undefined ? { message: options.message } : {}) }, options.correlationId)
  }

  async release (id: string, options: ReleaseOptions = {}): Promise<Rotation> {
    return await this.#decide(id, { op: 'release', forced: options.force === true }, options.correlationId)
  }

  async abort (id: string, options: AbortOptions = {}): Promise<Rotation> {
    if (options.reason !== undefined && typeof options.reason !== 'string') throw new CredregError('BAD_REQUEST', 'an abort\'s reason is a string')
    return await this.#decide(id, { op: 'abort', ...(options.reason !== undefined ? { reason: options.reason } : {}) }, options.correlationId)
  }

  /**
   * The value an open rotation stages for `key` (`NOT_FOUND` when none
   * does): the version its release would make current, opened as the
   * replica opens any version a release wrote.
   */
  async pending (key: string): Promise<Entity> {
    const { replica } = this.#o
    const id = await replica.store.staged.get(key)
    const rotation = id === undefined ? undefined : await replica.rotation(id)
    const staged = rotation === undefined ? undefined : storedVersionsOfChangeset(rotation.seq, rotation).find(v => v.key === key)
    if (rotation === undefined || staged === undefined) throw new CredregError('NOT_FOUND', `no open rotation stages ${key}`, { key })
    return { ...replica.toEntity(key, staged.stored), rotation: rotation.id }
  }

  async #decide (id: string, decision: Decision, correlationId: string | undefined): Promise<Rotation> {
    await this.#o.track(this.#o.decisions.decide(id, decision, correlationId !== undefined ? { correlationId } : {}))
    return await this.rotation(id)
  }
}

function checkHosts (hosts: unknown): void {
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > MAX_ROTATION_HOSTS) throw new CredregError('BAD_REQUEST', `hosts must list 1 to ${MAX_ROTATION_HOSTS} node ids`)
  const bad = hosts.find(h => typeof h !== 'string' || !NODE_ID.test(h))
  if (bad !== undefined) throw new CredregError('BAD_REQUEST', `hosts: ${JSON.stringify(bad)} is not a node id (1-128 characters of A-Z a-z 0-9 _ . -)`)
  if (new Set(hosts).size !== hosts.length) throw new CredregError('BAD_REQUEST', 'hosts lists a node id twice')
}
