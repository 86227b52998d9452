import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../scripts/openapi-build'

/** The document as the build publishes it (the Worker serves it from KV), generated from the route definitions. */
async function served() {
  return JSON.parse(await openApiDocument()) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>
    components: { schemas: Record<string, unknown> }
  }
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate((await served()) as unknown as Parameters<Validator['validate']>[0])
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes the signup fields from the schema that validates them', async () => {
    const doc = await served()
    const body = doc.paths['/api/subscribe']?.post?.requestBody?.content['application/json']?.schema as {
      $ref?: string
    }
    const name = body.$ref?.split('/').pop() ?? ''
    const signup = doc.components.schemas[name] as {
      properties: Record<string, unknown>
      required: string[]
      additionalProperties: boolean
    }
    expect(Object.keys(signup.properties)).toEqual(
      expect.arrayContaining([
        'email',
        'name',
        'consent',
        // "Also email me new essays": the newsletter's consent wording, optional.
        'newsletter',
        'timezone',
        'source',
        'utm_source',
        'utm_campaign',
        'course',
      ]),
    )
    expect(signup.required).toEqual(expect.arrayContaining(['email', 'consent']))
    expect(signup.required).not.toContain('newsletter')
    expect(signup.additionalProperties).toBe(false)
  })
})
