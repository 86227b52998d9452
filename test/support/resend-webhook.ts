import { env } from 'cloudflare:workers'
import { Webhook } from 'standardwebhooks'
import { get } from '../helpers'

/** The Resend webhook's signing secret in tests, and the Worker that knows it. */
export const WEBHOOK_SECRET = `whsec_${btoa('a webhook secret for tests only')}`
export const withWebhookSecret: Env = { ...env, RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET }

/** Posts an event the way Resend (through Svix) does: signed over the raw body. */
export function deliver(event: unknown, o: { id?: string; at?: Date; secret?: string; bindings?: Env } = {}) {
  const id = o.id ?? `msg_${crypto.randomUUID()}`
  const at = o.at ?? new Date()
  const body = JSON.stringify(event)
  const signature = new Webhook(o.secret ?? WEBHOOK_SECRET).sign(id, at, body)
  return get(
    '/api/webhooks/resend',
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'svix-id': id,
        'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
        'svix-signature': signature,
      },
      body,
    },
    o.bindings ?? withWebhookSecret,
  )
}

/** A Resend event of `type` about one email to `to`. */
export const providerEvent = (type: string, to: unknown, extra: Record<string, unknown> = {}) => ({
  type,
  created_at: new Date().toISOString(),
  data: { email_id: crypto.randomUUID(), to: typeof to === 'string' ? [to] : to, ...extra },
})
