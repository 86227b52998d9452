/**
 * Build step (Node): the OpenAPI 3.1 document, generated from the Worker's own routes (each declares
 * itself with describeRoute and validates with its valibot schema) by hono-openapi, and published
 * with the site at /api/openapi.json. Generated here, not in the Worker: the schema converters it
 * needs (about 25 KB) never ship.
 */
import { generateSpecs } from 'hono-openapi'
import { createApp, documentation } from '../src/app'
import { json, problem } from '../src/lib/api'
import { siteContent } from '../src/site/content'

/** Where the document is published. */
export const OPENAPI_PATH = '/api/openapi.json'

/** The document, as JSON text. */
export async function openApiDocument(): Promise<string> {
  // The routes only: no request is served, so the content's caches stay empty.
  const app = createApp(siteContent({ manifestTtlMs: 0, blobCacheBytes: 0 }))
  const spec = await generateSpecs(app, {
    documentation: {
      ...documentation,
      paths: {
        [OPENAPI_PATH]: {
          get: { summary: 'This document', tags: ['docs'], responses: { 200: json('OpenAPI 3.1') } },
        },
      },
    },
    exclude: [/^\/dev\//],
    excludeStaticFile: false,
    defaultValidationErrorResponse: problem('An input is invalid; each field is named'),
  })
  return JSON.stringify(spec)
}
