/**
 * "Which version of key K does each node hold?", told from what this node
 * already knows instead of asking every host: the log is one order for all,
 * so a node that applied the log through sequence S holds the version of K
 * written at or before S. This node's replica keeps K's history (version →
 * sequence); each peer's applied sequence comes from its membership record.
 */
import { isCredregError } from '../errors.js'
import type { CredregNode } from '../types.js'

/** One retained version of a key: its version and the log sequence it was written at. */
export interface VersionAt { version: number, seq: number }

/**
 * The version of a key a node that applied the log through `appliedSeq`
 * holds, from the key's retained `history` (oldest first): the last version
 * written at or before that sequence; 0 before the key was first written (or
 * for a key never written); `null` when the node is behind the oldest
 * retained version and that one is not the key's first (history is cut at
 * `--history`, so which version it holds cannot be told). For a node ahead of
 * this one's replica it is the latest version this replica knows: that one or
 * a later one.
 */
export function versionAt (history: readonly VersionAt[], appliedSeq: number): number | null {
  let held: number | null = null
  for (const entry of history) {
    if (entry.seq > appliedSeq) break
    held = entry.version
  }
  if (held !== null) return held
  const first = history[0]
  return first === undefined || first.version === 1 ? 0 : null
}

/**
 * The retained history of `key` in the node's replica (version and sequence,
 * oldest first); empty for a key it never saw.
 */
export async function versionsOf (node: CredregNode, key: string): Promise<VersionAt[]> {
  try {
    return (await node.history(key)).map(({ version, seq }) => ({ version, seq }))
  } catch (err) {
    if (isCredregError(err, 'NOT_FOUND')) return []
    throw err
  }
}

/**
 * The version of `key` in the node's own replica: the latest (a tombstone
 * counts, since it is what the node holds), or 0 for a key it never saw.
 */
export async function heldVersion (node: CredregNode, key: string): Promise<number> {
  try {
    return (await node.get(key)).version
  } catch (err) {
    if (!isCredregError(err, 'NOT_FOUND')) throw err
  }
  return (await versionsOf(node, key)).at(-1)?.version ?? 0
}
