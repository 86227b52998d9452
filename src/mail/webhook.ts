/** Outbound webhooks: signed POSTs to the marketer's URL when a subscriber's life changes. */

/** A job on the MAIL queue: deliver one event to WEBHOOK_URL (written by the lifecycle into the outbox). */
export interface WebhookJob {
  kind: 'webhook'
  /** Stable across retries: the receiver can deduplicate with it (webhook-id). */
  id: string
  /** subscriber.created, .confirmed, …: see the lifecycle's SubscriberEventType. */
  type: string
  at: number
  data: Record<string, unknown>
}

/**
 * Delivers one event, signed the Standard Webhooks way (the scheme Resend's own webhooks use):
 * headers webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 over id, time and
 * body. True when the endpoint answered 2xx; anything else is for the queue to retry.
 */
export async function deliverWebhook(url: string, secret: string, job: WebhookJob, now: number): Promise<boolean> {
  const body = JSON.stringify({ type: job.type, timestamp: new Date(job.at).toISOString(), data: job.data })
  const sentAt = new Date(now)
  // Loaded when an event is delivered, not at startup.
  const { Webhook } = await import('standardwebhooks')
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
