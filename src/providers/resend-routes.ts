import { bodyLimit } from 'hono/body-limit'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import { describeRoute, json, problem } from '../lib/api'
import { ApiError } from '../lib/errors'
import { ring } from '../mail/relay'
import { guardAll } from '../newsletter/dispatch'
import { lifecycleOf } from '../subscribers/lifecycle'
import { EMAIL_EVENT_TYPES, type EmailEvent, recipients, recordEmailEvent } from './resend-events'

const eventSchema = v.looseObject({
  type: v.string(),
  created_at: v.pipe(
    v.string(),
    v.check((s) => !Number.isNaN(Date.parse(s))),
  ),
  data: v.looseObject({}),
})

type Answer = { status: 'recorded' | 'duplicate' | 'ignored' }

/**
 * POST /api/webhooks/resend: Resend's reports on each email (delivered, opened, clicked, bounced,
 * complained, …). The signature (svix-id, svix-timestamp, svix-signature over the raw body) is
 * checked with standardwebhooks, the library Resend's own SDK verifies with, and old timestamps are
 * refused; a hard bounce or a complaint stops all mail to the address at once.
 */
export function webhookRoutes() {
  const app = new Hono<{ Bindings: Env }>()
  app.post(
    '/api/webhooks/resend',
    describeRoute({
      summary: "Resend's reports on each email (signed with RESEND_WEBHOOK_SECRET)",
      tags: ['providers'],
      responses: {
        200: json('Recorded, a duplicate, or a type this project ignores'),
        400: problem('Not signed by Resend, or not a Resend event'),
        413: problem('Body over 256 KB'),
        503: problem('RESEND_WEBHOOK_SECRET is not configured'),
      },
    }),
    bodyLimit({
      maxSize: 256 * 1024,
      onError: () => {
        throw new ApiError(413, 'the body is larger than 256 KB')
      },
    }),
    async (c) => {
      const secret = c.env.RESEND_WEBHOOK_SECRET
      if (!secret) {
        console.error('resend webhook refused: RESEND_WEBHOOK_SECRET is not set')
        throw new ApiError(503, 'webhooks are not configured')
      }
      const raw = await c.req.text()
      const id = c.req.header('svix-id') ?? ''
      let payload: unknown
      // Loaded when Resend calls, not at the Worker's startup.
      const { Webhook } = await import('standardwebhooks')
      try {
        payload = new Webhook(secret).verify(raw, {
          'webhook-id': id,
          'webhook-timestamp': c.req.header('svix-timestamp') ?? '',
          'webhook-signature': c.req.header('svix-signature') ?? '',
        })
      } catch (err) {
        const why = err instanceof Error ? err.message : 'invalid'
        throw new ApiError(400, `signature refused: ${why}`)
      }
      const parsed = v.safeParse(eventSchema, payload)
      if (!parsed.success) throw new ApiError(400, 'the body is not a Resend event')
      const event = parsed.output
      if (!(EMAIL_EVENT_TYPES as readonly string[]).includes(event.type)) return c.json<Answer>({ status: 'ignored' })
      if (!recipients(event as EmailEvent))
        throw new ApiError(400, { 'data.to': 'must be an address or a list of addresses' })
      const { status, outbox } = await recordEmailEvent(lifecycleOf(c.env), event as EmailEvent, Date.now())
      await ring(c.env.DB, c.env.MAIL, outbox)
      // A complaint or a hard bounce may take a broadcast past the guard's limits: it pauses at once.
      if (status === 'recorded' && (event.type === 'email.complained' || event.type === 'email.bounced'))
        await guardAll(c.env.DB, Date.now())
      return c.json<Answer>({ status })
    },
  )
  return app
}
