/** Outbound webhooks: signed POSTs to the marketer's URL when a subscriber's life changes. */
import { Webhook } from 'standardwebhooks'
import type { Subscriber } from '../subscribers/store'
import { presentSubscriber } from './present'

/** The events a marketer's endpoint hears about. */
export type SubscriberEventType =
  | 'subscriber.created'
  | 'subscriber.confirmed'
  | 'subscriber.unsubscribed'
  | 'subscriber.completed'

/** A job on the MAIL queue: deliver one event to WEBHOOK_URL. */
export interface WebhookJob {
  kind: 'webhook'
  /** Stable across retries: the receiver can deduplicate with it (webhook-id). */
  id: string
  type: SubscriberEventType
  at: number
  data: Record<string, unknown>
}

/** The event's payload: the subscriber as the admin API shows them, without the consent evidence (IP, user agent). */
export const eventData = (s: Subscriber) => {
  const { consent: _, ...data } = presentSubscriber(s)
  return data
}

/**
 * Queues an event for the marketer's endpoint, if one is configured. Never throws: a webhook must
 * not cost a reader their signup or their unsubscribe.
 */
export async function emitEvent(env: Env, type: SubscriberEventType, s: Subscriber, at: number): Promise<void> {
  if (!env.WEBHOOK_URL || !env.WEBHOOK_SECRET) return
  const job: WebhookJob = { kind: 'webhook', id: `evt_${crypto.randomUUID()}`, type, at, data: eventData(s) }
  try {
    await env.MAIL.send(job)
  } catch (err) {
    console.error(`webhook ${type} for ${s.id} could not be queued`, err)
  }
}

/**
 * Delivers one event, signed the Standard Webhooks way (the scheme Resend's own webhooks use):
 * headers webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 over id, time and
 * body. True when the endpoint answered 2xx; anything else is for the queue to retry.
 */
export async function deliverWebhook(url: string, secret: string, job: WebhookJob, now: number): Promise<boolean> {
  const body = JSON.stringify({ type: job.type, timestamp: new Date(job.at).toISOString(), data: job.data })
  const sentAt = new Date(now)
  const signature = new Webhook(secret).sign(job.id, sentAt, body)
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': job.id,
        'webhook-timestamp': String(Math.floor(now / 1000)),
        'webhook-signature': signature,
      },
      body,
    })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}
