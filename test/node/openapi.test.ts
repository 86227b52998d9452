import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/openapi'

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(openApiDocument('https://spine-exercises.example.com'))
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes the signup fields from the schema that validates them', () => {
    const doc = openApiDocument('https://x.example')
    const signup = doc.components.schemas.Signup as {
      properties: Record<string, unknown>
      required: string[]
      additionalProperties: boolean
    }
    expect(Object.keys(signup.properties)).toEqual(
      expect.arrayContaining([
        'email',
        'name',
        'consent',
        'timezone',
        'source',
        'utm_source',
        'utm_campaign',
        'course',
      ]),
    )
    expect(signup.required).toEqual(expect.arrayContaining(['email', 'consent']))
    expect(signup.additionalProperties).toBe(false)
  })
})
