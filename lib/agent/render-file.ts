/**
 * One template rendered to one file: the rendered bytes written atomically,
 * or on failure the previous file left as it was.
 */
import type { JsonObject } from '../types.js'
import { writeAtomic, type AtomicWriteOptions } from './atomic-write.js'
import type { CompiledTemplate } from './template.js'

/** A template and the file it renders to. */
export class RenderedFile {
  readonly template: CompiledTemplate
  readonly path: string
  readonly #options: AtomicWriteOptions

  constructor (template: CompiledTemplate, path: string, options: AtomicWriteOptions = {}) {
    this.template = template
    this.path = path
    this.#options = options
  }

  /** The file's mode and owner. */
  get options (): AtomicWriteOptions { return this.#options }

  /** Renders `values` to bytes; rejects when the render fails. */
  async render (values: ReadonlyMap<string, JsonObject>): Promise<Buffer> {
    return Buffer.from(await this.template.render(values), 'utf8')
  }

  /** Renders `values` and switches the file if the bytes differ; resolves with whether it switched. Rejects, leaving the file, when the render fails. */
  async write (values: ReadonlyMap<string, JsonObject>, path = this.path): Promise<{ changed: boolean, bytes: number }> {
    const bytes = await this.render(values)
    return { changed: await writeAtomic(path, bytes, this.#options), bytes: bytes.length }
  }
}
