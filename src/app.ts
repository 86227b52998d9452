import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { securityHeaders } from './lib/security'
import { type SiteOptions, siteRoutes } from './site/routes'

/** Settings of one app instance; tests make their own with a shorter manifest cache. */
export type AppOptions = SiteOptions

/**
 * The Worker's HTTP side: security headers on everything, one error handler, then the feature
 * routes (the readers' site catches every path not taken before it).
 */
export function createApp(options: AppOptions = { manifestTtlMs: 5_000, blobCacheBytes: 8 << 20 }) {
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
  app.route('/', siteRoutes(options))
  return app
}
