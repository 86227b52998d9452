import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { adminApiRoutes } from './admin/api-routes'
import { dashboardRoutes } from './admin/dashboard-routes'
import { securityHeaders } from './lib/security'
import { outboxRoutes } from './mail/outbox-routes'
import { openApiDocument } from './openapi'
import { webhookRoutes } from './providers/resend-routes'
import type { SiteContent } from './site/content'
import { siteRoutes } from './site/routes'
import { embedRoutes } from './subscribers/embed-routes'
import { linkRoutes } from './subscribers/link-routes'
import { signupRoutes } from './subscribers/signup-routes'

/**
 * The Worker's HTTP side: security headers on everything, one error handler, then the feature
 * routes; the readers' site comes last and catches every path not taken before it.
 */
export function createApp(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()
  app.use(securityHeaders())
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status >= 500)
        console.error(`${c.req.method} ${c.req.path}: ${err.status} ${err.message}`, err.cause ?? '')
      return err.getResponse()
    }
    console.error(`${c.req.method} ${c.req.path}: unhandled`, err)
    return c.text('Something went wrong on our side. Please try again.\n', 500)
  })
  app.route('/', signupRoutes(content))
  app.route('/', embedRoutes(content))
  app.route('/', webhookRoutes())
  app.route('/', adminApiRoutes(content))
  app.route('/', dashboardRoutes(content))
  app.get('/api/openapi.json', (c) => c.json(openApiDocument(new URL(c.req.url).origin)))
  app.route('/', linkRoutes(content))
  app.route('/', outboxRoutes(content))
  app.route('/', siteRoutes(content))
  return app
}
