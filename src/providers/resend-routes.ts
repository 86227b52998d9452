import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { Webhook } from 'standardwebhooks'
import { z } from 'zod'
import { ring } from '../mail/relay'
import { lifecycleOf } from '../subscribers/lifecycle'
import { EMAIL_EVENT_TYPES, type EmailEvent, recipients, recordEmailEvent } from './resend-events'

const eventSchema = z.object({
  type: z.string(),
  created_at: z.string(),
  data: z.object({}).passthrough(),
})

type Answer = { status: 'recorded' | 'duplicate' | 'ignored' } | { error: { status: number; message: string } }

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
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) => c.json<Answer>({ error: { status: 413, message: 'body over 256 KB' } }, 413),
    }),
    async (c) => {
      const secret = c.env.RESEND_WEBHOOK_SECRET
      if (!secret) {
        console.error('resend webhook refused: RESEND_WEBHOOK_SECRET is not set')
        return c.json<Answer>({ error: { status: 503, message: 'webhooks are not configured' } }, 503)
      }
      const raw = await c.req.text()
      const id = c.req.header('svix-id') ?? ''
      let payload: unknown
      try {
        payload = new Webhook(secret).verify(raw, {
          'webhook-id': id,
          'webhook-timestamp': c.req.header('svix-timestamp') ?? '',
          'webhook-signature': c.req.header('svix-signature') ?? '',
        })
      } catch (err) {
        const why = err instanceof Error ? err.message : 'invalid'
        return c.json<Answer>({ error: { status: 400, message: `signature refused: ${why}` } }, 400)
      }
      const parsed = eventSchema.safeParse(payload)
      if (!parsed.success) return c.json<Answer>({ error: { status: 400, message: 'body is not a Resend event' } }, 400)
      if (!(EMAIL_EVENT_TYPES as readonly string[]).includes(parsed.data.type))
        return c.json<Answer>({ status: 'ignored' })
      if (!recipients(parsed.data as EmailEvent))
        return c.json<Answer>(
          { error: { status: 400, message: 'data.to must be an address or a list of addresses' } },
          400,
        )
      const { recorded, outbox } = await recordEmailEvent(lifecycleOf(c.env), id, parsed.data as EmailEvent, Date.now())
      await ring(c.env.DB, c.env.MAIL, outbox)
      return c.json<Answer>({ status: recorded ? 'recorded' : 'duplicate' })
    },
  )
  return app
}
