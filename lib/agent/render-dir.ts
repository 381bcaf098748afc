/**
 * Several templates rendered into one directory and switched together
 * (atomic-dir.ts): every template is rendered first; if one fails, nothing
 * is switched and every file keeps its previous bytes.
 */
import { basename, dirname } from 'node:path'
import type { JsonObject } from '../types.js'
import { writeAtomicDir } from './atomic-dir.js'
import type { RenderedFile } from './render-file.js'

/** What became of one file of the directory. */
export type DirectoryResult =
  | { file: RenderedFile, ok: true, changed: boolean, bytes: number }
  | { file: RenderedFile, ok: false, error: Error }

/** Templates whose files (`DIR/NAME`) are switched in one step. */
export class RenderedDirectory {
  readonly path: string
  readonly files: readonly RenderedFile[]

  /** Every file's path must be `path/NAME`. */
  constructor (path: string, files: readonly RenderedFile[]) {
    for (const file of files) {
      if (dirname(file.path) !== path) throw new TypeError(`${file.path} is not a file of ${path}`)
    }
    this.path = path
    this.files = files
  }

  /**
   * Renders every template with `values`, then switches all the files at once
   * if any changed. When a render fails the directory is left as it was: the
   * failed files carry their error, the others one saying so.
   */
  async write (values: ReadonlyMap<string, JsonObject>): Promise<DirectoryResult[]> {
    const rendered = await Promise.allSettled(this.files.map(async file => await file.render(values)))
    const failed = rendered.flatMap((r, i) => r.status === 'rejected' ? [basename((this.files[i] as RenderedFile).path)] : [])
    if (failed.length > 0) {
      return rendered.map((r, i) => ({
        file: this.files[i] as RenderedFile,
        ok: false,
        error: r.status === 'rejected' ? r.reason as Error : new Error(`${this.path} not switched: ${failed.join(', ')} failed`)
      }))
    }
    const bytes = rendered.map(r => (r as PromiseFulfilledResult<Buffer>).value)
    const changed = new Set(await writeAtomicDir(this.path, this.files.map((file, i) => ({
      name: basename(file.path),
      bytes: bytes[i] as Buffer,
      ...file.options
    }))))
    return this.files.map((file, i) => ({ file, ok: true, changed: changed.has(basename(file.path)), bytes: (bytes[i] as Buffer).length }))
  }
}
