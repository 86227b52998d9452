import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../src/index'
import { get, lessonsDrained, makeActiveSubscribers, publish, subscriberByEmail } from './helpers'
import { deliver, providerEvent, withWebhookSecret } from './support/resend-webhook'

const withSecret = withWebhookSecret

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

const event = providerEvent

const eventCount = async () =>
  (await env.DB.prepare('SELECT count(*) AS n FROM email_events').first<{ n: number }>())?.n

describe('a complaint or a hard bounce from Resend', () => {
  it('stops the next lesson of a complaining subscriber at once', async () => {
    const now = Date.now()
    const [id] = await makeActiveSubscribers(1, { prefix: 'complainer', dueAt: now })
    const res = await deliver(event('email.complained', 'complainer0@example.com'))
    expect(await res.json()).toEqual({ status: 'recorded' })
    expect((await subscriberByEmail('complainer0@example.com'))?.status).toBe('complained')
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: now + 60_000 }), env, ctx)
    await waitOnExecutionContext(ctx)
    await lessonsDrained()
    const sent = await env.DB.prepare('SELECT count(*) AS n FROM deliveries WHERE subscriber_id = ?')
      .bind(id)
      .first<{ n: number }>()
    expect(sent?.n).toBe(0)
  })

  it('marks a hard bounce bounced, and only records a soft one', async () => {
    await makeActiveSubscribers(2, { prefix: 'bouncer', dueAt: Date.now() + 86_400_000 })
    await deliver(event('email.bounced', 'bouncer0@example.com', { bounce: { type: 'Permanent' } }))
    await deliver(event('email.bounced', 'bouncer1@example.com', { bounce: { type: 'Transient' } }))
    expect((await subscriberByEmail('bouncer0@example.com'))?.status).toBe('bounced')
    expect((await subscriberByEmail('bouncer1@example.com'))?.status).toBe('active')
  })
})

describe('the events Resend reports', () => {
  it('are recorded once however often the same webhook is delivered', async () => {
    const e = event('email.delivered', 'twice@example.com')
    const before = await eventCount()
    expect(await (await deliver(e, { id: 'msg_same' })).json()).toEqual({ status: 'recorded' })
    expect(await (await deliver(e, { id: 'msg_same' })).json()).toEqual({ status: 'duplicate' })
    expect(await eventCount()).toBe((before ?? 0) + 1)
  })

  it('are tied to the subscriber, and to the lesson through its message id', async () => {
    const [id] = await makeActiveSubscribers(1, { prefix: 'opener', dueAt: Date.now() })
    await env.DB.prepare(
      `INSERT INTO deliveries (subscriber_id, lesson, course, status, batch_key, message_id, created_at)
       VALUES (?, 1, 'cure-back-pain-program', 'sent', 'k', 'resend-msg-1', 0)`,
    )
      .bind(id)
      .run()
    await deliver({
      type: 'email.opened',
      created_at: new Date().toISOString(),
      data: { email_id: 'resend-msg-1', to: ['someone-else@example.com'] },
    })
    const row = await env.DB.prepare(
      "SELECT subscriber_id, type FROM email_events WHERE email_id = 'resend-msg-1'",
    ).first()
    expect(row).toEqual({ subscriber_id: id, type: 'email.opened' })
  })

  it('of a type this project does not know are answered 200 and ignored', async () => {
    const before = await eventCount()
    expect(await (await deliver(event('contact.created', 'x@example.com'))).json()).toEqual({ status: 'ignored' })
    expect(await eventCount()).toBe(before)
  })
})

describe('a webhook that is not from Resend', () => {
  it.each([
    ['signed with another secret', 'other', { secret: `whsec_${btoa('not our secret at all')}` }],
    ['signed ten minutes ago (a replay)', 'stale', { at: new Date(Date.now() - 10 * 60_000) }],
  ] as const)('is refused with 400 when %s, and changes nothing', async (_, prefix, o) => {
    await makeActiveSubscribers(1, { prefix, dueAt: Date.now() })
    const before = await eventCount()
    const res = await deliver(event('email.complained', `${prefix}0@example.com`), o)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/signature refused/)
    expect(await eventCount()).toBe(before)
    expect((await subscriberByEmail(`${prefix}0@example.com`))?.status).toBe('active')
  })

  it('is refused with 400 when the signature headers are missing', async () => {
    const res = await get('/api/webhooks/resend', { method: 'POST', body: '{}' }, withSecret)
    expect(res.status).toBe(400)
  })

  it('is refused with 503, and logged, when no webhook secret is configured', async () => {
    const res = await deliver(event('email.complained', 'x@example.com'), { bindings: env })
    expect(res.status).toBe(503)
  })
})
