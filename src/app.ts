import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { Hono } from 'hono/tiny'
import type { GenerateSpecOptions } from 'hono-openapi'
import { adminApiRoutes } from './admin/api-routes'
import { adminAuth, adminNoStore } from './admin/auth'
import { broadcastRoutes } from './admin/broadcast-routes'
import { dashboardRoutes } from './admin/dashboard-routes'
import { importPageRoutes } from './admin/import-page-routes'
import { describeRoute, errorSchema, page } from './lib/api'
import { ApiError, asApiError } from './lib/errors'
import { securityHeaders } from './lib/security'
import { outboxRoutes } from './mail/outbox-routes'
import { webhookRoutes } from './providers/resend-routes'
import type { SiteContent } from './site/content'
import { siteRoutes } from './site/routes'
import { clickRoutes } from './subscribers/click-routes'
import { embedRoutes } from './subscribers/embed-routes'
import { linkRoutes } from './subscribers/link-routes'
import { signupRoutes } from './subscribers/signup-routes'
import { apiDocsPage } from './ui/api-docs'
import { errorPage } from './ui/error-page'

/** A browser asking for a page; API clients (JSON, or curl with any Accept) get JSON. */
const wantsPage = (c: Context) => {
  const accept = c.req.header('Accept') ?? ''
  const type = c.req.header('Content-Type') ?? ''
  return accept.includes('text/html') && !type.startsWith('application/json')
}

/**
 * The OpenAPI document's own parts: what no single route says. The document is generated from the
 * routes at build time (scripts/openapi-build.ts) and published with the site at /api/openapi.json:
 * the converters it takes stay out of the Worker.
 */
export const documentation: GenerateSpecOptions['documentation'] = {
  info: {
    title: 'Spine Exercises and Back Pain: signups, course and admin API',
    version: '1',
    description:
      'Generated from the route definitions and the schemas the routes validate with. Every refusal has one shape: `{"error": {"status", "message", "fields"}}`.',
  },
  components: {
    securitySchemes: {
      admin: { type: 'http' as const, scheme: 'bearer', description: 'ADMIN_TOKEN' },
    },
    schemas: { Error: errorSchema },
  },
}

/** What only a test sets: where Turnstile tokens are checked (a local stand-in). */
export interface AppOptions {
  turnstileVerifyUrl?: string
}

/**
 * The Worker's HTTP side: security headers on everything, one error handler, then the feature
 * routes; the readers' site comes last and catches every path not taken before it.
 */
export function createApp(content: SiteContent, options: AppOptions = {}) {
  const app = new Hono<{ Bindings: Env }>()
  app.use(securityHeaders())
  // Every admin answer, the dashboard's pages and the GDPR export included, stays out of caches.
  for (const path of ['/admin', '/admin/*', '/api/admin/*']) app.use(path, adminNoStore)
  // The admin API's one door, for every route under it (checked once per request).
  app.use('/api/admin/*', adminAuth)

  // Every refusal, thrown from anywhere, is shaped here: the one JSON shape for API clients, a
  // page for browsers. Anything else is a bug: logged whole, answered with a generic 500.
  app.onError(async (err, c) => {
    let error: ApiError
    if (err instanceof HTTPException) {
      error = asApiError(err)
      if (error.status >= 500)
        console.error(`${c.req.method} ${c.req.path}: ${error.status} ${error.message}`, error.cause ?? '')
    } else {
      console.error(`${c.req.method} ${c.req.path}: unhandled`, err)
      error = new ApiError(500, 'Something went wrong on our side. Please try again.')
    }
    const headers = { 'Cache-Control': 'no-store', ...error.headers }
    if (wantsPage(c)) {
      const settings = await content
        .manifest(c.env.CONTENT)
        .then((m) => m.settings)
        .catch(() => undefined)
      if (settings) return errorPage(settings, error.status, error.message, headers)
    }
    return c.json(error.body(), error.status, headers)
  })

  app.route('/', signupRoutes(content, options.turnstileVerifyUrl))
  app.route('/', embedRoutes(content))
  app.route('/', webhookRoutes())
  app.route('/', adminApiRoutes(content))
  app.route('/', broadcastRoutes(content))
  app.route('/', dashboardRoutes(content))
  app.route('/', importPageRoutes(content))
  app.get(
    '/api/docs',
    describeRoute({
      summary: 'The interactive API reference (Swagger UI)',
      tags: ['docs'],
      responses: { 200: page('The page') },
    }),
    () => apiDocsPage(),
  )
  app.route('/', linkRoutes(content))
  app.route('/', clickRoutes(content))
  app.route('/', outboxRoutes(content))
  app.route('/', siteRoutes(content))
  return app
}
