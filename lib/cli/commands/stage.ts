/**
 * `credreg stage KEY [JSON | --file PATH | -]` or `credreg stage --changes
 * FILE|-`, with `--hosts a,b,c` and `--deadline 10m`: stages one key's new
 * value, or a `{ "changes": [ … ] }` document (as `credreg apply` reads), as a
 * rotation; prints its id, its changes and whom it waits for.
 */
import { CredregError } from '../../errors.js'
import type { Change, JsonObject } from '../../types.js'
import type { CommandContext } from '../context.js'
import { readJson } from '../input.js'
import { changesTable, rotationFields } from '../rotation-output.js'

export interface StageInput {
  key?: string
  value?: string
  file?: string
  changes?: string
  hosts?: string[]
  deadline?: number
}

export async function run (ctx: CommandContext, input: StageInput): Promise<void> {
  const changes = await changesOf(ctx, input)
  const rotation = await (await ctx.client()).stage(changes, {
    ...(input.hosts !== undefined ? { hosts: input.hosts } : {}),
    ...(input.deadline !== undefined ? { deadlineSeconds: input.deadline } : {})
  })
  ctx.out.result(rotation, () => {
    rotationFields(ctx.out, rotation)
    ctx.out.line('')
    changesTable(ctx.out, rotation)
    ctx.out.note(`on each host: credreg ack ${rotation.id} (or --fail MESSAGE); then: credreg release ${rotation.id}`)
  })
}

/** The changes to stage: the document of `--changes`, or a put of KEY's value. */
async function changesOf (ctx: CommandContext, { key, value, file, changes }: StageInput): Promise<Change[]> {
  if (changes !== undefined) {
    if (key !== undefined || file !== undefined) throw new CredregError('BAD_REQUEST', 'stage either KEY and its value, or --changes FILE: not both')
    const doc = await readJson({ file: changes }, ctx.io.stdin, 'changes document')
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray((doc as { changes?: unknown }).changes)) {
      throw new CredregError('BAD_REQUEST', 'the changes document must be a JSON object { "changes": [ … ] }')
    }
    const extra = Object.keys(doc).find(name => name !== 'changes')
    if (extra !== undefined) throw new CredregError('BAD_REQUEST', `the changes document takes "changes" only, not ${JSON.stringify(extra)}`)
    return (doc as { changes: Change[] }).changes
  }
  if (key === undefined) throw new CredregError('BAD_REQUEST', 'nothing to stage: give KEY and its value, or --changes FILE (- for stdin)')
  const parsed = await readJson({ text: value, file }, ctx.io.stdin, 'value')
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredregError('INVALID_VALUE', `the value must be a JSON object, not ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`, { key })
  }
  return [{ key, op: 'put', value: parsed as JsonObject }]
}
