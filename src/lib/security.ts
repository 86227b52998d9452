import type { MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'

/**
 * The strictest policy the site lives with: nothing loads, no script runs, no one frames us.
 * Pages add their stylesheet's hash to it ({@link pageCsp}).
 */
export const BASE_CSP =
  "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; img-src 'self'"

/**
 * The policy for a page: the base policy plus exactly its inline stylesheet (by hash) and, on
 * pages with a signup form, scripts from our own origin (no inline script anywhere).
 */
export const pageCsp = (styleSrc: string, scripts = false, turnstile = false, framableBy?: string[]) => {
  const t = scripts && turnstile ? ` ${TURNSTILE_ORIGIN}` : ''
  const script = scripts ? `; script-src 'self'${t}${t ? `; frame-src${t}` : ''}` : ''
  // connect-src 'self': crawlers' and auditors' in-page fetches (robots.txt) of our own origin.
  const connect = `; connect-src 'self'${t}`
  // Only the embeddable signup form may be framed, and only by the sites the publisher lists.
  const base = framableBy
    ? BASE_CSP.replace("frame-ancestors 'none'", `frame-ancestors 'self'${framableBy.map((o) => ` ${o}`).join('')}`)
    : BASE_CSP
  return `${base}; style-src ${styleSrc}${script}${connect}`
}

/** Where Cloudflare Turnstile's widget comes from, when a site key is configured. */
export const TURNSTILE_ORIGIN = 'https://challenges.cloudflare.com'

/**
 * Security headers on every response (hono/secure-headers: HSTS, nosniff, Referrer-Policy, …) and
 * the base CSP wherever a route did not set its own. hono's CSP option is fixed per app or computed
 * before the handler runs, while a page's style hash is known only once its manifest is read.
 */
export function securityHeaders(): MiddlewareHandler {
  const standard = secureHeaders({
    referrerPolicy: 'strict-origin-when-cross-origin',
    strictTransportSecurity: 'max-age=31536000; includeSubDomains',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    overwrite: false,
  })
  return async function security(c, next) {
    await standard(c, async () => {
      await next()
      if (!c.res.headers.has('Content-Security-Policy')) c.res.headers.set('Content-Security-Policy', BASE_CSP)
    })
    // A page that allows framing by other sites says so in its CSP; X-Frame-Options would forbid it.
    if (/frame-ancestors 'self' /.test(c.res.headers.get('Content-Security-Policy') ?? ''))
      c.res.headers.delete('X-Frame-Options')
  }
}
