import { z } from 'zod'
import { exportSchema, listSchema, personSchema, statsSchema, testSchema } from './admin/schemas'
import { preferencesSchema, signupSchema } from './subscribers/schema'

/** JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of what a schema accepts. */
const schemaOf = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return rest
}

/** Each property of an object schema as a query (or path) parameter. */
function parameters(s: z.ZodObject, where: 'query' | 'path') {
  const j = schemaOf(s) as { properties?: Record<string, unknown>; required?: string[] }
  return Object.entries(j.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (j.required ?? []).includes(name),
    schema,
  }))
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const problem = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } })
const page = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } })
const token = {
  name: 'token',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The signed token from the email',
}
const admin = { security: [{ admin: [] }], tags: ['admin'] }
const adminErrors = {
  400: problem('A parameter is invalid; each is named'),
  401: problem('No bearer token'),
  403: problem('Wrong token'),
  503: problem('ADMIN_TOKEN is not configured'),
}

/** Everything a link in an email may do: GET shows a page, POST acts (mail scanners only GET). */
const linkRoute = (what: string, body?: unknown) => ({
  get: {
    summary: `The ${what} page`,
    parameters: [token],
    responses: {
      200: page('The page'),
      400: page('A malformed link'),
      403: page('A forged, altered, expired or misdirected link'),
    },
  },
  post: {
    summary: `${what[0]?.toUpperCase()}${what.slice(1)}`,
    parameters: [token],
    ...(body ? { requestBody: body } : {}),
    responses: {
      200: page('Done'),
      400: page('A malformed link or bad input'),
      403: page('A forged, altered, expired or misdirected link'),
      413: page('Body too large'),
    },
  },
})

/**
 * The OpenAPI 3.1 document of the public and admin API, made from the very zod schemas the routes
 * validate with, so the two cannot drift.
 */
export function openApiDocument(serverUrl: string) {
  const form = (schema: string) => ({
    required: true,
    content: {
      'application/json': { schema: ref(schema) },
      'application/x-www-form-urlencoded': { schema: ref(schema) },
    },
  })
  return {
    openapi: '3.1.0',
    info: { title: 'Spine Exercises and Back Pain: signups, course and admin API', version: '1' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        session: { type: 'apiKey', in: 'cookie', name: 'admin_session', description: 'Set by POST /admin/sign-in' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              properties: {
                status: { type: 'integer' },
                message: { type: 'string' },
                fields: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
          },
        },
        Signup: schemaOf(signupSchema),
        Preferences: schemaOf(preferencesSchema),
        TestEmail: schemaOf(testSchema),
      },
    },
    paths: {
      '/api/subscribe': {
        post: {
          summary: 'Sign up for a course (double opt-in); the same answer for any address',
          requestBody: form('Signup'),
          responses: {
            202: {
              description: 'Accepted (JSON)',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { status: { const: 'accepted' }, message: { type: 'string' } },
                  },
                },
              },
            },
            303: { description: 'Accepted (form): redirect to the check-your-inbox page' },
            400: problem('A field is invalid; each is named'),
            403: problem('Turnstile check failed, or a browser origin that is not allowed'),
            413: problem('Body over 16 KB'),
            415: problem('Not JSON or a form'),
            429: problem('Too many signups from this IP'),
            503: problem('Mail cannot be sent now; nothing was kept'),
          },
        },
      },
      '/subscribe/check-your-inbox': {
        get: { summary: 'Where a form signup lands', responses: { 200: page('The page') } },
      },
      '/embed.js': {
        get: {
          summary: 'The one-line snippet: inserts the embeddable form with the host page as attribution',
          responses: {
            200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } },
          },
        },
      },
      '/embed/signup': {
        get: {
          summary: 'The embeddable form, framable by the origins in signupOrigins',
          parameters: [
            'course',
            'source',
            'landing',
            'referrer',
            'utm_source',
            'utm_medium',
            'utm_campaign',
            'utm_term',
            'utm_content',
          ].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          responses: { 200: page('The form') },
        },
      },
      '/embed/thanks': { get: { summary: 'Where an embedded signup lands', responses: { 200: page('The page') } } },
      '/confirm/{token}': linkRoute('confirm the subscription'),
      '/unsubscribe/{token}': linkRoute('unsubscribe (also RFC 8058 one-click)', {
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', properties: { 'List-Unsubscribe': { const: 'One-Click' } } },
          },
        },
      }),
      '/preferences/{token}': linkRoute('change preferences', form('Preferences')),
      '/api/webhooks/resend': {
        post: {
          summary: "Resend's email events, signed by Svix",
          parameters: ['svix-id', 'svix-timestamp', 'svix-signature'].map((name) => ({
            name,
            in: 'header',
            required: true,
            schema: { type: 'string' },
          })),
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            200: { description: 'Recorded, duplicate or ignored' },
            400: problem('Bad signature or stale timestamp'),
            503: problem('RESEND_WEBHOOK_SECRET is not set'),
          },
        },
      },
      '/api/admin/subscribers': {
        get: {
          ...admin,
          summary: 'Subscribers, newest first, with a cursor',
          parameters: parameters(listSchema, 'query'),
          responses: { 200: { description: 'A page' }, ...adminErrors },
        },
      },
      '/api/admin/subscribers.csv': {
        get: {
          ...admin,
          summary: 'The filtered list as CSV, streamed',
          parameters: parameters(exportSchema, 'query'),
          responses: {
            200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
            ...adminErrors,
          },
        },
      },
      '/api/admin/subscribers/import': {
        post: {
          ...admin,
          summary:
            'Import subscribers with consent from CSV (the export format); every row checked, all good rows in one transaction',
          parameters: [{ name: 'dry_run', in: 'query', required: false, schema: { const: '1' } }],
          requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
          responses: {
            200: { description: 'The report: rows taken, rows refused with reasons' },
            415: problem('Not text/csv'),
            422: problem('Every row was refused'),
            ...adminErrors,
          },
        },
      },
      '/api/admin/subscribers/{id}': {
        get: {
          ...admin,
          summary: 'One subscriber with deliveries and history',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'The subscriber' }, 404: problem('No such subscriber'), ...adminErrors },
        },
      },
      '/api/admin/stats': {
        get: {
          ...admin,
          summary: 'Signups, funnel and lessons',
          parameters: parameters(statsSchema, 'query'),
          responses: { 200: { description: 'The figures' }, ...adminErrors },
        },
      },
      '/api/admin/test-email': {
        post: {
          ...admin,
          summary: 'Send a test email to an address',
          requestBody: { required: true, content: { 'application/json': { schema: ref('TestEmail') } } },
          responses: { 202: { description: 'Sent' }, 502: problem('The provider refused it'), ...adminErrors },
        },
      },
      '/api/admin/people/{email}': {
        get: {
          ...admin,
          summary: 'Everything held about an address (GDPR access)',
          parameters: parameters(personSchema, 'path'),
          responses: { 200: { description: 'The data' }, ...adminErrors },
        },
        delete: {
          ...admin,
          summary: 'Erase an address, keeping only a suppression hash',
          parameters: parameters(personSchema, 'path'),
          responses: { 200: { description: 'Erased' }, ...adminErrors },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/admin/sign-in': {
        get: { tags: ['dashboard'], summary: 'The sign-in form', responses: { 200: page('The form') } },
        post: {
          tags: ['dashboard'],
          summary: 'Sign in with the admin token',
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
              },
            },
          },
          responses: {
            303: { description: 'Signed in: to /admin, with the session cookie' },
            403: page('Wrong token'),
            503: page('ADMIN_TOKEN is not configured'),
          },
        },
      },
      '/admin/sign-out': {
        post: { tags: ['dashboard'], summary: 'Sign out', responses: { 303: { description: 'To the sign-in page' } } },
      },
      ...Object.fromEntries(
        [
          ['/admin', 'Overview: signups per day and the course funnel'],
          ['/admin/subscribers', 'Subscribers, searchable'],
          ['/admin/lessons', 'Each lesson as a subscriber receives it'],
          ['/admin/lessons/{n}/html', "One lesson's HTML"],
          ['/admin/dead-letters', 'Messages that failed every retry'],
        ].map(([path, summary]) => [
          path,
          {
            get: {
              tags: ['dashboard'],
              summary,
              security: [{ session: [] }],
              ...(path?.includes('{n}')
                ? { parameters: [{ name: 'n', in: 'path', required: true, schema: { type: 'integer' } }] }
                : {}),
              responses: { 200: page('The page'), 303: { description: 'Not signed in: to /admin/sign-in' } },
            },
          },
        ]),
      ),
    },
  }
}
