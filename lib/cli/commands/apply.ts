/**
 * `credreg apply FILE|-`: writes a changeset document `{ "changes": [ … ] }`,
 * every change or none. A refused changeset is reported key by key (see
 * `Output.error`).
 */
import { checkChangesetBody } from '../../write/check-changes.js'
import type { CommandContext } from '../context.js'
import { readJson } from '../input.js'

export interface ApplyInput {
  file: string
}

export async function run (ctx: CommandContext, { file }: ApplyInput): Promise<void> {
  const document = await readJson({ file }, ctx.io.stdin, 'changeset document')
  // Checked here to name the document in the message; the client checks the changes again before sending them.
  const changes = checkChangesetBody(document, 'the changeset document')
  const result = await (await ctx.client()).commit(changes)
  ctx.out.result(result, () => {
    for (const { key, version } of result.results) ctx.out.line(`${key} version ${version}`)
  })
}
