import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Webhook } from 'standardwebhooks'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import type { WebhookJob } from '../src/mail/webhook'
import { consumeQueue } from '../src/queues'
import { siteContent } from '../src/site/content'
import { consentText, get, linkIn, mailsTo, publish, signup } from './helpers'

const hookUrl = inject('hookUrl')
const consent = consentText(inject('siteBuild'))
type Received = { headers: { id: string; timestamp: string; signature: string }; body: string }

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

/** The events the marketer's endpoint received about one address, once `count` have arrived. */
async function eventsFor(email: string, count: number) {
  const mine = async () =>
    ((await (await fetch(`${hookUrl}/__received`)).json()) as Received[]).filter((r) => r.body.includes(`"${email}"`))
  for (let i = 0; i < 200 && (await mine()).length < count; i++) await new Promise((r) => setTimeout(r, 25))
  return mine()
}

describe("a marketer's webhook endpoint", () => {
  it('hears of a signup, its confirmation and its unsubscribe, each signed so it can tell they are ours', async () => {
    await signup({ email: 'hooked@example.com', consent, source: 'partner' }, { json: true })
    const [mail] = await mailsTo('hooked@example.com')
    await get(linkIn(mail as { text: string }, 'confirm'), { method: 'POST' })
    await get(linkIn(mail as { text: string }, 'unsubscribe'), { method: 'POST' })
    const events = await eventsFor('hooked@example.com', 3)
    const verifier = new Webhook(env.WEBHOOK_SECRET ?? '')
    const payloads = events.map((e) =>
      verifier.verify(e.body, {
        'webhook-id': e.headers.id,
        'webhook-timestamp': e.headers.timestamp,
        'webhook-signature': e.headers.signature,
      }),
    ) as { type: string; data: Record<string, unknown> }[]
    expect(payloads.map((p) => p.type).sort()).toEqual([
      'subscriber.confirmed',
      'subscriber.created',
      'subscriber.unsubscribed',
    ])
    expect(payloads[0]?.data).toMatchObject({
      email: 'hooked@example.com',
      source: 'partner',
      course: 'cure-back-pain-program',
    })
    expect(JSON.stringify(payloads)).not.toMatch(/consent_ip|user_agent/)
  })

  it('gets a failed delivery again later, and the signup never waited for it', async () => {
    await fetch(`${hookUrl}/__fail?count=1`, { method: 'POST' })
    const job: WebhookJob = {
      kind: 'webhook',
      id: 'evt_retry',
      type: 'subscriber.created',
      at: Date.now(),
      data: { email: 'retry-hook@example.com' },
    }
    const run = async (attempts: number) => {
      const batch = createMessageBatch<WebhookJob>('spine-exercises-mail', [
        { id: `m${attempts}`, timestamp: new Date(), attempts, body: job },
      ])
      const ctx = createExecutionContext()
      await consumeQueue(batch, env, siteContent({ manifestTtlMs: 0, blobCacheBytes: 1 << 20 }), Date.now)
      return getQueueResult(batch, ctx)
    }
    expect((await run(1)).retryMessages).toHaveLength(1)
    expect((await run(2)).explicitAcks).toHaveLength(1)
    const events = await eventsFor('retry-hook@example.com', 1)
    expect(events.map((e) => e.headers.id)).toEqual(['evt_retry'])
  })
})
