/**
 * Fastify's validator compiler for TypeBox schemas: each schema is compiled
 * once at start-up; query strings and headers are converted (strings to
 * numbers…) before they are checked, bodies and path parameters are not.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  const convert = httpPart === 'querystring' || httpPart === 'headers'
  return (input) => {
    const value = convert ? Value.Convert(schema, input) : input
    if (check.Check(value)) return { value }
    return { error: check.Errors(value) as unknown as FastifySchemaValidationError[] }
  }
}
