/**
 * The conditions a write is made under (`ifVersion`, `ifAbsent`, and that a
 * patch or delete needs a key that exists), checked against the state a
 * writer builds on: one key's write and every change of a changeset alike.
 */
import { CredregError, VersionConflictError } from '../errors.js'
import type { StoredEntity } from '../replica/store.js'

/** What a write asks of the key's current state. */
export interface Condition {
  op: 'put' | 'patch' | 'delete'
  ifVersion?: number
  ifAbsent?: boolean
}

/**
 * How the current state fails a condition, if it does. `older`: the caller's
 * version is already superseded, final without asking the log; `conflict`:
 * another version or presence was expected; `missing`: nothing to patch or delete.
 */
export type Unmet = 'older' | 'conflict' | 'missing'

/** How `currentVersion` (held, or absent/deleted when not `exists`) fails `condition`, if it does. */
export function unmetCondition (condition: Condition, currentVersion: number, exists: boolean): Unmet | undefined {
  if (condition.ifVersion !== undefined && condition.ifVersion !== currentVersion) return condition.ifVersion < currentVersion ? 'older' : 'conflict'
  if (condition.ifAbsent === true && exists) return 'conflict'
  if ((condition.op === 'patch' || condition.op === 'delete') && !exists) return 'missing'
  return undefined
}

/** The typed error of an unmet condition: `NOT_FOUND` for nothing to change, else `VERSION_CONFLICT`. */
export function conditionError (key: string, condition: Condition, unmet: Unmet, currentVersion: number): CredregError {
  if (unmet === 'missing') return new CredregError('NOT_FOUND', `${key} does not exist${currentVersion > 0 ? ` (deleted at version ${currentVersion})` : ''}`, { key })
  return new VersionConflictError(key, condition.ifVersion, currentVersion)
}

/** The head if it holds a value (not absent, not a tombstone). */
export function live (head: StoredEntity | undefined): StoredEntity | undefined {
  return head !== undefined && head.op !== 'delete' ? head : undefined
}
