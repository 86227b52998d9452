/**
 * How a route declares its API: `validate` checks one input with its one schema (a refusal is an
 * ApiError naming each field), and the `describeRoute` pieces below say what it answers. The
 * OpenAPI document is generated from these declarations (hono-openapi walks the app's routes), so
 * nothing is written twice and nothing can drift.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describeRoute, resolver, validator } from 'hono-openapi'
import { ApiError, fieldProblems } from './errors'

export { describeRoute, resolver } from 'hono-openapi'

type Target = 'json' | 'query' | 'param' | 'form'

/**
 * Hono's validator middleware for one input, refusing with 400 and each bad field named.
 * @example app.get('/api/admin/stats', validate('query', statsSchema), (c) => c.json(c.req.valid('query')))
 */
export const validate = <S extends StandardSchemaV1, T extends Target>(target: T, schema: S) =>
  validator(target, schema, (result) => {
    if (!result.success) throw new ApiError(400, fieldProblems(result.error))
  })

const errorRef = { $ref: '#/components/schemas/Error' }

/** An answer in the one error shape. */
export const problem = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorRef } },
})

/** A JSON answer, described by a schema (valibot) or by plain JSON Schema. */
export const json = (
  description: string,
  schema: StandardSchemaV1 | Record<string, unknown> = { type: 'object' as const },
) => ({
  description,
  content: { 'application/json': { schema: '~standard' in schema ? resolver(schema as StandardSchemaV1) : schema } },
})

/** An HTML page, for people. */
export const page = (description: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' as const } } },
})

/** The one error shape, for the document's components. */
export const errorSchema = {
  type: 'object' as const,
  required: ['error'],
  properties: {
    error: {
      type: 'object' as const,
      required: ['status', 'message', 'fields'],
      properties: {
        status: { type: 'integer' as const },
        message: { type: 'string' as const },
        fields: {
          type: 'object' as const,
          additionalProperties: { type: 'string' as const },
          description: "Each refused field's problem, by field name",
        },
      },
    },
  },
}

/** A route that answers people with a page: its summary, and any answers besides 200. */
export const pageRoute = (summary: string, responses: Record<number, unknown> = {}, tags = ['pages']) =>
  describeRoute({ summary, tags, responses: { 200: page('The page'), ...responses } })
