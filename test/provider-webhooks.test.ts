import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../src/index'
import {
  ADMIN_TOKEN,
  cronAt,
  get,
  lessonsDrained,
  mailsTo,
  makeActiveSubscribers,
  makeSubscriber,
  type OutboxItem,
  publish,
  subscriberByEmail,
} from './helpers'
import { deliver, providerEvent, withWebhookSecret } from './support/resend-webhook'

const withSecret = withWebhookSecret
const admin: Env = { ...withWebhookSecret, ADMIN_TOKEN }
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }
const COURSE = 'cure-back-pain-program'

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

const event = providerEvent

/** A time as every admin answer gives it: ISO 8601 in UTC. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

interface Received {
  subscriber_id: string
  email: string
  sent_at: string
  events: string[]
}

/** Each email the admin API says the subscriber received, with what became of it. */
async function received(id: string): Promise<Received[]> {
  const res = await get(`/api/admin/subscribers/${id}`, { headers: auth }, admin)
  expect(res.status).toBe(200)
  return ((await res.json()) as { received: Received[] }).received
}

/** Lesson 1's figures in GET /api/admin/stats (every signup day). */
async function lessonOne() {
  const res = await get('/api/admin/stats', { headers: auth }, admin)
  const { lessons } = (await res.json()) as { lessons: { lesson: number; delivered: number; opened: number }[] }
  return lessons.find((l) => l.lesson === 1) ?? { lesson: 1, delivered: 0, opened: 0 }
}

/** An email as the local outbox kept it, with the tags it went out with. */
type Sent = OutboxItem & { tags: { name: string; value: string }[] }

/** The tags an email went out with, as Resend echoes them in its webhooks (`data.tags`). */
const echoed = (mail: Sent) => Object.fromEntries(mail.tags.map((t) => [t.name, t.value]))

/**
 * A new active subscriber sent lessons by the cron: lesson 1 now, then `more` lessons, each when
 * due. Returns the id, the address and each lesson's email as the provider got it, in order.
 */
async function taking(prefix: string, more = 0) {
  const [id = ''] = await makeActiveSubscribers(1, { prefix, dueAt: Date.now() })
  const address = `${prefix}0@example.com`
  await cronAt(Date.now() + 60_000)
  for (let n = 0; n < more; n++) await cronAt(((await subscriberByEmail(address))?.next_send_at as number) + 60_000)
  const lessons = (await mailsTo(address, 1 + more))
    .filter((m) => m.subject.startsWith('Lesson'))
    .sort((a, b) => a.subject.localeCompare(b.subject)) as Sent[]
  expect(lessons.map((m) => m.subject.slice(0, 8))).toEqual(
    Array.from({ length: 1 + more }, (_, i) => `Lesson ${i + 1}`),
  )
  return { id, address, lessons }
}

/** Rows the webhook writes about people: receipts, and the bounces and complaints kept for the guard. */
const stored = async () =>
  (
    await env.DB.prepare('SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM trouble) AS n').first<{
      n: number
    }>()
  )?.n

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
    expect(await mailsTo('complainer0@example.com', 0)).toEqual([])
  })

  it('marks a hard bounce bounced, and only records a soft one', async () => {
    const [hard = '', soft = ''] = await makeActiveSubscribers(2, { prefix: 'bouncer', dueAt: Date.now() + 86_400_000 })
    await deliver(event('email.bounced', 'bouncer0@example.com', { bounce: { type: 'Permanent' } }))
    expect(
      await (await deliver(event('email.bounced', 'bouncer1@example.com', { bounce: { type: 'Transient' } }))).json(),
    ).toEqual({ status: 'recorded' })
    expect((await subscriberByEmail('bouncer0@example.com'))?.status).toBe('bounced')
    expect((await subscriberByEmail('bouncer1@example.com'))?.status).toBe('active')
    expect((await received(hard)).map((r) => r.events)).toEqual([['bounced']])
    expect((await received(soft)).map((r) => r.events)).toEqual([['bounced']])
  })
})

describe('the events Resend reports', () => {
  it('are recorded once however often the same webhook is delivered', async () => {
    const { id, address, lessons } = await taking('twice')
    const e = event('email.delivered', address, { tags: echoed(lessons[0] as Sent) })
    const before = await lessonOne()
    expect(await (await deliver(e, { id: 'msg_same' })).json()).toEqual({ status: 'recorded' })
    expect(await (await deliver(e, { id: 'msg_same' })).json()).toEqual({ status: 'duplicate' })
    // The same event again under another delivery id (replayed from Resend's dashboard): still once.
    expect(await (await deliver(e)).json()).toEqual({ status: 'duplicate' })
    expect(await received(id)).toEqual([
      { subscriber_id: id, email: `lesson:${COURSE}:1`, sent_at: expect.stringMatching(ISO), events: ['delivered'] },
    ])
    expect((await lessonOne()).delivered).toBe(before.delivered + 1)
  })

  it('are tied to the subscriber, and to the lesson, through the tags it was sent with', async () => {
    const { id, address, lessons } = await taking('opener', 1)
    // The same address has another subscription (a course since retired), changed more lately.
    const other = await makeSubscriber({
      email: address,
      course: 'a-retired-course',
      status: 'completed',
      updated_at: Date.now() + 60_000,
    })
    const before = await lessonOne()
    // Resend echoes the tags of lesson 1, though lesson 2 is the latest email the reader got.
    const res = await deliver(event('email.opened', address, { tags: echoed(lessons[0] as Sent) }))
    expect(await res.json()).toEqual({ status: 'recorded' })
    expect(await received(id)).toEqual([
      { subscriber_id: id, email: `lesson:${COURSE}:1`, sent_at: expect.stringMatching(ISO), events: ['opened'] },
      { subscriber_id: id, email: `lesson:${COURSE}:2`, sent_at: expect.stringMatching(ISO), events: [] },
    ])
    expect(await received(other)).toEqual([])
    expect((await lessonOne()).opened).toBe(before.opened + 1)
  })

  it('without the tags of a lesson or a broadcast, are kept on the subscription of the address, by their type tag or as other', async () => {
    const [id = ''] = await makeActiveSubscribers(1, { prefix: 'untagged', dueAt: Date.now() + 86_400_000 })
    expect(await (await deliver(event('email.delivered', 'untagged0@example.com'))).json()).toEqual({
      status: 'recorded',
    })
    expect(
      await (await deliver(event('email.opened', 'untagged0@example.com', { tags: { type: 'confirmation' } }))).json(),
    ).toEqual({ status: 'recorded' })
    const kept = (await received(id)).map((r) => [r.email, r.events])
    expect(kept.sort()).toEqual([
      ['confirmation', ['opened']],
      ['other', ['delivered']],
    ])
  })

  it.each([
    ['of a type this project does not know', 'contact.created'],
    ['saying the provider took an email', 'email.sent'],
    ['of a delivery delayed (it is retried)', 'email.delivery_delayed'],
    ['of an email that failed', 'email.failed'],
  ])('%s are answered 200 and ignored', async (_, type) => {
    const [id = ''] = await makeActiveSubscribers(1, { prefix: `ignored-${type}`, dueAt: Date.now() + 86_400_000 })
    const before = await stored()
    const res = await deliver(event(type, `ignored-${type}0@example.com`))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ignored' })
    expect(await stored()).toBe(before)
    expect(await received(id)).toEqual([])
  })

  it('about an address nobody subscribed with are answered 200 and ignored', async () => {
    const before = await stored()
    for (const type of ['email.delivered', 'email.opened', 'email.bounced'] as const) {
      const res = await deliver(event(type, 'nobody-here@example.com', { bounce: { type: 'Transient' } }))
      expect(await res.json(), type).toEqual({ status: 'ignored' })
    }
    expect(await stored()).toBe(before)
  })
})

describe('a webhook that is not from Resend', () => {
  it.each([
    ['signed with another secret', 'other', { secret: `whsec_${btoa('not our secret at all')}` }],
    ['signed ten minutes ago (a replay)', 'stale', { at: new Date(Date.now() - 10 * 60_000) }],
  ] as const)('is refused with 400 when %s, and changes nothing', async (_, prefix, o) => {
    const [id = ''] = await makeActiveSubscribers(1, { prefix, dueAt: Date.now() })
    const before = await stored()
    const res = await deliver(event('email.complained', `${prefix}0@example.com`), o)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/signature refused/)
    expect(await stored()).toBe(before)
    expect(await received(id)).toEqual([])
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
