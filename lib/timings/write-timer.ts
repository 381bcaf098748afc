/**
 * The marks of one key's write on a node: one small object per write, made
 * only when a {@link TimingHook} is set. Each mark closes the stage since the
 * previous one; a stage reached again (a retry after a conflict) adds up, and
 * nothing is reported until the write succeeds, so each stage counts once per
 * write.
 */
import type { NodeWriteStage, TimingHook } from './stages.js'

const ORDER: readonly NodeWriteStage[] = ['checked', 'sealed', 'published', 'applied']

export class WriteTimer {
  readonly #hook: TimingHook
  #last = performance.now()
  // Milliseconds per stage, in ORDER; -1 until the stage is first reached.
  readonly #spent = [-1, -1, -1, -1]

  constructor (hook: TimingHook) {
    this.#hook = hook
  }

  /** Closes `stage`: the time since the previous mark (or the start) counts to it. */
  mark (stage: NodeWriteStage): void {
    const now = performance.now()
    const i = ORDER.indexOf(stage)
    this.#spent[i] = Math.max(0, this.#spent[i] as number) + now - this.#last
    this.#last = now
  }

  /** Reports every stage reached, in seconds: the write succeeded. */
  done (): void {
    for (let i = 0; i < ORDER.length; i++) {
      const ms = this.#spent[i] as number
      if (ms >= 0) this.#hook.write(ORDER[i] as NodeWriteStage, ms / 1000)
    }
  }
}
