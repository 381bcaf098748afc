/**
 * The configuration of `credreg agent --config agent.json`: several templates
 * and at most one reload command. Validated with its TypeBox schema; a bad
 * file fails with `INVALID_CONFIG` naming the field.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { CredregError } from '../errors.js'

/** The agent configuration file. */
export const AgentConfigSchema = Type.Object({
  /** The templates to render, each to its file. */
  templates: Type.Array(Type.Object({
    /** The template file (relative to the configuration file). */
    source: Type.String({ minLength: 1 }),
    /** The rendered file (relative to the configuration file); a bare file name with `directory` set: that file of the directory. */
    destination: Type.String({ minLength: 1 }),
    /** Its mode in octal, e.g. "0640" (default "0600"). */
    mode: Type.Optional(Type.String({ pattern: '^0?[0-7]{3}$' })),
    /** `user:group` to chown it to (as root). */
    owner: Type.Optional(Type.String({ pattern: '^[^:]+:[^:]+$' })),
    /**
     * A shell command testing a rotation that stages the template's keys: it
     * runs on `FILE.pending` (`$CREDREG_PENDING_FILE`) in the configuration
     * file's directory; exit 0 passes (as `credreg render --test`).
     */
    test: Type.Optional(Type.String({ minLength: 1 })),
    /** `"pending"`: what `test` implies, spelt out (as `credreg render --stage pending`); it needs `test`. */
    stage: Type.Optional(Type.Literal('pending'))
  }, { additionalProperties: false }), { minItems: 1, maxItems: 256 }),
  /**
   * A directory (relative to the configuration file; made mode 0700) whose
   * files are switched in one step, as Kubernetes' AtomicWriter does: every
   * template whose `destination` is a bare file name is rendered into it, and
   * a change switches all of them at once, or none when one fails.
   */
  directory: Type.Optional(Type.String({ minLength: 1 })),
  /** The shell command run once after a change switched any of the files, after all of them are written; it runs in the configuration file's directory. */
  command: Type.Optional(Type.String({ minLength: 1 })),
  /** Most random delay before the command, in milliseconds, so hosts do not reload all at once (`--splay` overrides it). */
  splayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
  /** Quiet time after a change before rendering, in milliseconds (default 100). */
  debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  /** While a rotation stays open and this host's acknowledgement is failed, test again this often, in milliseconds; 0: never (default 30000; `--retest` overrides it). */
  retestMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 }))
}, { additionalProperties: false })

/** The agent configuration file, as written. */
export type AgentConfigFile = Static<typeof AgentConfigSchema>

/** The agent configuration, paths made absolute; `inDirectory` marks the templates rendered into `directory`. */
export type AgentConfig = Omit<AgentConfigFile, 'templates'> & {
  templates: Array<AgentConfigFile['templates'][number] & { inDirectory: boolean }>
}

const checkConfig = Compile(AgentConfigSchema)

/** Reads and validates `path`; relative paths in it become relative to its directory. */
export async function loadAgentConfig (path: string): Promise<AgentConfig> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new CredregError('INVALID_CONFIG', `${path}: ${(err as Error).message}`, { cause: err })
  }
  if (!checkConfig.Check(raw)) {
    const first = checkConfig.Errors(raw)[0]
    const where = first?.instancePath === '' || first === undefined ? 'the document' : first.instancePath
    throw new CredregError('INVALID_CONFIG', `${path}: ${where}: ${first?.message ?? 'invalid'}`)
  }
  const untested = raw.templates.findIndex(t => t.stage === 'pending' && t.test === undefined)
  if (untested !== -1) throw new CredregError('INVALID_CONFIG', `${path}: /templates/${untested}/stage: "pending" renders the staged values for a test, which is missing`)
  const base = dirname(path)
  const directory = raw.directory === undefined ? undefined : resolve(base, raw.directory)
  const names = new Set<string>()
  const templates = raw.templates.map((t, i) => {
    const inDirectory = directory !== undefined && !t.destination.includes('/')
    if (inDirectory && (t.destination.startsWith('..') || t.destination === '.' || names.has(t.destination))) {
      throw new CredregError('INVALID_CONFIG', `${path}: /templates/${i}/destination: ${JSON.stringify(t.destination)} ${names.has(t.destination) ? 'twice in the directory' : 'may not start with ".." in the directory'}`)
    }
    if (inDirectory) names.add(t.destination)
    return { ...t, source: resolve(base, t.source), destination: resolve(inDirectory && directory !== undefined ? directory : base, t.destination), inDirectory }
  })
  return { ...raw, ...(directory !== undefined ? { directory } : {}), templates }
}
