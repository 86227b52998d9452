import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { get, makeSubscriber } from './helpers'
import { deliver, providerEvent } from './support/resend-webhook'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const api = (path: string) =>
  get(path, { headers: { Authorization: `Bearer ${TOKEN}` } }, { ...env, ADMIN_TOKEN: TOKEN })
const NOV1 = Date.parse('2026-11-01T10:00:00Z')
const NOV2 = Date.parse('2026-11-02T10:00:00Z')
const NOV3 = Date.parse('2026-11-03T08:00:00Z')

/** A lesson sent to a subscriber, recorded as the lessons consumer records it: 'sending', then 'sent'. */
async function sent(id: string, lesson: number) {
  await env.DB.prepare(
    `INSERT INTO deliveries (subscriber_id, lesson, course, status, batch_key, created_at)
     VALUES (?, ?, 'cure-back-pain-program', 'sending', 'k', ?)`,
  )
    .bind(id, lesson, NOV3)
    .run()
  await env.DB.prepare(
    "UPDATE deliveries SET status = 'sent', message_id = ?, sent_at = ? WHERE subscriber_id = ? AND lesson = ?",
  )
    .bind(crypto.randomUUID(), NOV3, id, lesson)
    .run()
}

/** What Resend reports about one lesson to one subscriber, through the webhook, with the lesson's tags. */
async function report(type: string, id: string, lesson: number, extra: Record<string, unknown> = {}) {
  const tags = { type: 'lesson', course: 'cure-back-pain-program', lesson: String(lesson), subscriber: id }
  const res = await deliver(providerEvent(type, `${id}@example.com`, { tags, ...extra }))
  expect(res.status).toBe(200)
  return ((await res.json()) as { status: string }).status
}

beforeAll(async () => {
  const a = await makeSubscriber({
    created_at: NOV1,
    source: 'partner',
    utm_campaign: 'spring',
    confirmed_at: NOV1,
    status: 'completed',
    lesson_position: 5,
  })
  const b = await makeSubscriber({
    created_at: NOV1,
    source: 'partner',
    utm_campaign: 'spring',
    confirmed_at: NOV1,
    status: 'unsubscribed',
    lesson_position: 2,
  })
  const c = await makeSubscriber({
    created_at: NOV1,
    source: 'essay-end',
    confirmed_at: NOV1,
    status: 'active',
    lesson_position: 1,
  })
  await makeSubscriber({ created_at: NOV1, source: 'essay-end', status: 'pending' })
  const e = await makeSubscriber({
    created_at: NOV2,
    source: 'partner',
    confirmed_at: NOV2,
    status: 'bounced',
    lesson_position: 1,
  })
  await makeSubscriber({ created_at: NOV2, source: 'partner', status: 'pending' })
  await sent(a, 1)
  await sent(b, 1)
  await sent(c, 1)
  await sent(e, 1)
  await sent(a, 2)
  await sent(b, 2)
  for (const [id, lesson] of [
    [a, 1],
    [b, 1],
    [c, 1],
    [a, 2],
  ] as const)
    expect(await report('email.delivered', id, lesson)).toBe('recorded')
  // A duplicate report counts once.
  expect(await report('email.delivered', a, 1)).toBe('duplicate')
  for (const id of [a, b]) expect(await report('email.opened', id, 1)).toBe('recorded')
  expect(await report('email.clicked', a, 1)).toBe('recorded')
  expect(await report('email.bounced', e, 1, { bounce: { type: 'Permanent' } })).toBe('recorded')
})

describe('the stats a marketer reads', () => {
  it('match the seeded signups, funnel and lessons exactly', async () => {
    const res = await api('/api/admin/stats?from=2026-11-01&to=2026-11-02')
    expect(await res.json()).toEqual({
      signups_per_day: [
        { day: '2026-11-01', source: 'essay-end', utm_campaign: '', signups: 2 },
        { day: '2026-11-01', source: 'partner', utm_campaign: 'spring', signups: 2 },
        { day: '2026-11-02', source: 'partner', utm_campaign: '', signups: 2 },
      ],
      funnel: { signed_up: 6, confirmed: 4, completed: 1, unsubscribed: 1 },
      confirm_rate: 0.6667,
      completion_rate: 0.25,
      lessons: [
        { lesson: 1, sent: 4, delivered: 3, opened: 2, clicked: 1, bounced: 1, complained: 0 },
        { lesson: 2, sent: 2, delivered: 1, opened: 0, clicked: 0, bounced: 0, complained: 0 },
      ],
      unsubscribes_by_lesson: [{ after_lesson: 2, unsubscribed: 1 }],
      // First-party clicks (through /r/): none in this seed.
      clicks: { by_email: {}, by_link: [] },
    })
  })

  it('narrow to a range of signup days', async () => {
    const res = await api('/api/admin/stats?from=2026-11-02&to=2026-11-02')
    const body = (await res.json()) as { funnel: { signed_up: number }; lessons: { lesson: number; sent: number }[] }
    expect(body.funnel.signed_up).toBe(2)
    expect(body.lessons).toEqual([
      { lesson: 1, sent: 1, delivered: 0, opened: 0, clicked: 0, bounced: 1, complained: 0 },
    ])
  })

  it('refuse a range that ends before it starts, or is not made of dates, with 400', async () => {
    expect((await api('/api/admin/stats?from=2026-11-02&to=2026-11-01')).status).toBe(400)
    const res = await api('/api/admin/stats?from=last-week')
    expect(res.status).toBe(400)
    expect(Object.keys(((await res.json()) as { error: { fields: object } }).error.fields)).toEqual(['from'])
  })
})
