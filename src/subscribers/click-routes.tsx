import { Hono } from 'hono/tiny'
import { afterAnswer } from '../lib/after-answer'
import { pageRoute } from '../lib/api'
import { verifyToken } from '../lib/tokens'
import type { SiteContent } from '../site/content'
import { recordClick } from './clicks'

/**
 * GET /r/:token/:link, the links of lessons and broadcasts: records who clicked which link of which
 * email (the token, signed per reader and email), then redirects to the link's page with its UTM
 * tags. Only links the build put in an email lead anywhere (never an open redirect); a link whose
 * token does not verify (a test send, a forwarded and altered email) still leads to its page, and
 * counts nothing.
 */
export function clickRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()
  app.get(
    '/r/:token/:link',
    pageRoute('A link in an email: counted, then redirected to its page', {
      302: { description: 'To the page the link names, with its UTM tags' },
      404: { description: 'No email ever had this link' },
    }),
    async (c) => {
      const manifest = await content.manifest(c.env.CONTENT)
      const link = c.req.param('link')
      const target = Object.hasOwn(manifest.links ?? {}, link) ? manifest.links?.[link] : undefined
      if (!target) return c.notFound()
      const check = c.env.SIGNING_KEY
        ? await verifyToken(c.env.SIGNING_KEY, 'click', c.req.param('token'), Date.now())
        : undefined
      const email = check?.ok ? check.topic : undefined
      // A broadcast's links carry its id as their campaign; it is known from the token.
      const campaign = email?.startsWith('broadcast:') ? email.slice('broadcast:'.length) : 'newsletter'
      // A HEAD (a link checker, a mail scanner) is answered the same way and counts nothing.
      if (check?.ok && email && c.req.method === 'GET')
        await afterAnswer(c)(recordClick(c.env.DB, check.subscriberId, email, link, Date.now()))
      c.header('Cache-Control', 'no-store')
      c.header('X-Robots-Tag', 'noindex')
      return c.redirect(target.replace('{{campaign}}', encodeURIComponent(campaign)), 302)
    },
  )
  return app
}
