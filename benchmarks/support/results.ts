/**
 * The results file (`benchmarks/results/latest.json`): its TypeBox schema is
 * the single source of its types, and the test checks a written file against it.
 */
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'

const Extra = Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.String()]))

/** One system in one scenario. Figures are present exactly when `status` is `ok`. */
export const RowSchema = Type.Object({
  scenario: Type.String({ minLength: 1 }),
  /** The systems compared, and `nats-server` for what the server itself costs (fleet-consumers). */
  system: Type.Union([Type.Literal('credreg node'), Type.Literal('credreg daemon'), Type.Literal('credreg cached client'), Type.Literal('NATS KV'), Type.Literal('etcd'), Type.Literal('nats-server')]),
  /** `not installed` (etcd), `unavailable` (e.g. the daemon is not built), `error` (the scenario failed). */
  status: Type.Union([Type.Literal('ok'), Type.Literal('not installed'), Type.Literal('unavailable'), Type.Literal('error')]),
  /** What exactly was measured, or why nothing was. */
  note: Type.String(),
  n: Type.Optional(Type.Integer({ minimum: 1 })),
  p50Ms: Type.Optional(Type.Number({ minimum: 0 })),
  p99Ms: Type.Optional(Type.Number({ minimum: 0 })),
  opsPerSec: Type.Optional(Type.Number({ minimum: 0 })),
  /** Scenario-specific figures: RSS, build time, conflicts/s, whether the final count was exact… */
  extra: Type.Optional(Extra)
}, { additionalProperties: false })

export const TargetSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  text: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('met'), Type.Literal('missed'), Type.Literal('n/a')]),
  detail: Type.String()
}, { additionalProperties: false })

export const ResultsSchema = Type.Object({
  schema: Type.Literal(1),
  date: Type.String({ format: 'date-time' }),
  quick: Type.Boolean(),
  command: Type.String(),
  durationSec: Type.Number({ minimum: 0 }),
  machine: Type.Object({
    nproc: Type.Integer({ minimum: 1 }),
    cpu: Type.String(),
    memoryMB: Type.Integer({ minimum: 1 }),
    /** 1-minute load average before and after the run: other work on the machine skews figures. */
    loadBefore: Type.Number({ minimum: 0 }),
    loadAfter: Type.Number({ minimum: 0 })
  }),
  /** 1-minute load average at the start and end of each scenario, by scenario id. */
  load: Type.Record(Type.String(), Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })])),
  versions: Type.Record(Type.String(), Type.String()),
  sizes: Type.Record(Type.String(), Type.Integer({ minimum: 1 })),
  rows: Type.Array(RowSchema, { minItems: 1 }),
  targets: Type.Array(TargetSchema)
}, { additionalProperties: false })

export type Row = Static<typeof RowSchema>
export type System = Row['system']

/** The systems compared, credreg's first (the order scenarios measure them in). */
export const SYSTEMS: readonly System[] = ['credreg node', 'credreg daemon', 'credreg cached client', 'NATS KV', 'etcd']
/** The systems every scenario measures: the cached client only reads, in get. */
export const EVERY_SCENARIO: readonly System[] = SYSTEMS.filter(s => s !== 'credreg cached client')
/** Every system a row may name: the compared ones, then the server's own costs. */
export const ALL_SYSTEMS: readonly System[] = [...SYSTEMS, 'nats-server']
export const PEERS: readonly System[] = ['NATS KV', 'etcd']
export type Target = Static<typeof TargetSchema>
export type Results = Static<typeof ResultsSchema>

const checkResults = Compile(ResultsSchema)

/** The first problem of `data` as a results file, or `undefined` when it is well-formed. */
export function resultsProblem (data: unknown): string | undefined {
  if (checkResults.Check(data)) return undefined
  const first = checkResults.Errors(data)[0]
  return first === undefined ? 'invalid results' : `${first.instancePath || '/'} ${first.message}`
}
