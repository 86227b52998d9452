import { env } from 'cloudflare:workers'
import * as v from 'valibot'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { subscriberDetailAnswer } from '../src/admin/schemas'
import { get, mailsTo, makeSubscriber, nextIp, publish } from './helpers'
import { deliver, providerEvent } from './support/resend-webhook'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const DAY = 86_400_000
const T0 = Date.parse('2026-11-01T00:00:00Z')

/**
 * A request to the admin API, each from its own client IP (wrong tokens are counted per client);
 * `null` sends no Authorization header at all.
 */
const api = (path: string, token: string | null = TOKEN, bindings: Env = admin, method = 'GET') =>
  get(
    path,
    {
      method,
      headers: { 'CF-Connecting-IP': nextIp(), ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    },
    bindings,
  )

/** A time as every admin answer gives it: ISO 8601 in UTC. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

beforeAll(async () => {
  await publish(inject('siteBuild'))
  // 30 subscribers over 30 days: every third from the partner, every fifth in the spring campaign.
  for (let i = 0; i < 30; i++)
    await makeSubscriber({
      email: `admin${i}@example.com`,
      created_at: T0 + i * DAY,
      source: i % 3 === 0 ? 'partner' : 'essay-end',
      utm_campaign: i % 5 === 0 ? 'spring' : null,
      status: i % 7 === 0 ? 'unsubscribed' : 'active',
      lesson_position: i % 6,
      first_name: i === 1 ? '=HYPERLINK("http://evil.example","x")' : null,
    })
})

describe('every admin route', () => {
  it.each([
    ['GET', '/api/admin/subscribers'],
    ['GET', '/api/admin/subscribers.csv'],
    ['GET', '/api/admin/subscribers/any-id'],
    ['POST', '/api/admin/subscribers/import'],
    ['GET', '/api/admin/stats'],
    ['GET', '/api/admin/people/someone@example.com'],
    ['DELETE', '/api/admin/people/someone@example.com'],
    ['POST', '/api/admin/test-email'],
  ])('%s %s refuses a missing token with 401, a wrong one with 403, and answers 503 when no token is configured', async (method, path) => {
    const missing = await api(path, null, admin, method)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toContain('Bearer')
    expect((await api(path, 'not-the-token', admin, method)).status).toBe(403)
    expect((await api(path, TOKEN, env, method)).status).toBe(503)
  })
})

describe('the subscriber list', () => {
  it('filters by status, source, campaign, signup dates and lessons reached', async () => {
    const list = async (q: string) =>
      (
        (await (await api(`/api/admin/subscribers?${q}`)).json()) as { subscribers: { email: string }[] }
      ).subscribers.map((s) => s.email)
    expect(await list('source=partner&limit=500')).toHaveLength(10)
    expect(await list('utm_campaign=spring&limit=500')).toHaveLength(6)
    expect(await list('status=unsubscribed&limit=500')).toEqual([
      'admin28@example.com',
      'admin21@example.com',
      'admin14@example.com',
      'admin7@example.com',
      'admin0@example.com',
    ])
    expect(await list('created_from=2026-11-03&created_to=2026-11-04')).toEqual([
      'admin3@example.com',
      'admin2@example.com',
    ])
    expect(await list('lesson_reached=5&limit=500')).toHaveLength(5)
  })

  it('pages through everything with its cursor, each subscriber exactly once', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await api(`/api/admin/subscribers?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
      const page = (await res.json()) as { subscribers: { email: string }[]; next_cursor: string | null }
      seen.push(...page.subscribers.map((s) => s.email))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toHaveLength(30)
    expect(new Set(seen).size).toBe(30)
    expect(seen[0]).toBe('admin29@example.com')
  })

  it.each([
    ['status=gone', 'status'],
    ['limit=0', 'limit'],
    ['limit=many', 'limit'],
    ['created_from=yesterday', 'created_from'],
    ['lesson_reached=-1', 'lesson_reached'],
    ['cursor=garbage', 'cursor'],
    ['colour=blue', 'colour'],
  ])('refuses ?%s with 400 naming %s', async (query, field) => {
    const res = await api(`/api/admin/subscribers?${query}`)
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { fields: Record<string, string> } }
    expect(Object.keys(error.fields)).toContain(field)
  })
})

describe('the CSV export', () => {
  it('streams every subscriber of the filter with a header, safe for spreadsheets', async () => {
    const res = await api('/api/admin/subscribers.csv?source=essay-end')
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const lines = (await res.text()).trim().split('\r\n')
    expect(lines[0]).toMatch(/^id,email,first_name,status,/)
    expect(lines).toHaveLength(21)
    const hyperlink = lines.find((l) => l.includes('admin1@example.com'))
    expect(hyperlink).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`)
  })
})

describe('one subscriber', () => {
  it('comes with deliveries, history and each email received with what became of it, times in ISO 8601 and data as objects; an unknown id is a 404', async () => {
    const id = await makeSubscriber({ email: 'detail@example.com', confirmed_at: T0 + 3_600_000 })
    const sent = Date.parse('2026-11-02T08:00:00Z')
    // Lesson 1 sent as the lessons consumer records it ('sending', then 'sent'); lesson 2 on its way.
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO deliveries (subscriber_id, lesson, course, status, batch_key, message_id, created_at, sent_at)
         VALUES (?1, 1, 'cure-back-pain-program', 'sending', 'k', NULL, ?2, NULL), (?1, 2, 'cure-back-pain-program', 'sending', 'k2', NULL, ?2 + 86400000, NULL)`,
      ).bind(id, sent),
      env.DB.prepare(
        "UPDATE deliveries SET status = 'sent', message_id = 'm1', sent_at = ?2 + 1500 WHERE subscriber_id = ?1 AND lesson = 1",
      ).bind(id, sent),
      env.DB.prepare(
        `INSERT INTO subscriber_events (subscriber_id, type, at, data) VALUES (?1, 'confirmed', ?2, '{"round":1}'), (?1, 'paused', ?2 + 5, '{}')`,
      ).bind(id, sent),
    ])
    // Resend reports lesson 1 delivered, echoing the tags it was sent with.
    const tags = { type: 'lesson', course: 'cure-back-pain-program', lesson: '1', subscriber: id }
    const reported = await deliver({
      ...providerEvent('email.delivered', 'detail@example.com', { tags }),
      created_at: new Date(sent + 2000).toISOString(),
    })
    expect(await reported.json()).toEqual({ status: 'recorded' })
    const res = await api(`/api/admin/subscribers/${id}`)
    expect(res.status).toBe(200)
    const body = v.parse(subscriberDetailAnswer, await res.json())
    expect(body.subscriber).toMatchObject({
      email: 'detail@example.com',
      created_at: '2023-11-14T22:13:20.000Z',
      confirmed_at: '2026-11-01T01:00:00.000Z',
    })
    expect(body.deliveries).toEqual([
      {
        round: 1,
        lesson: 1,
        status: 'sent',
        message_id: 'm1',
        created_at: '2026-11-02T08:00:00.000Z',
        sent_at: '2026-11-02T08:00:01.500Z',
      },
      {
        round: 1,
        lesson: 2,
        status: 'sending',
        message_id: null,
        created_at: '2026-11-03T08:00:00.000Z',
        sent_at: null,
      },
    ])
    expect(body.events).toEqual([
      { type: 'confirmed', at: '2026-11-02T08:00:00.000Z', data: { round: 1 } },
      { type: 'paused', at: '2026-11-02T08:00:00.005Z', data: {} },
    ])
    expect(body.received).toEqual([
      {
        subscriber_id: id,
        email: 'lesson:cure-back-pain-program:1',
        sent_at: '2026-11-02T08:00:01.500Z',
        events: ['delivered'],
      },
    ])
    for (const time of [
      ...body.deliveries.map((d) => d.created_at),
      ...body.events.map((e) => e.at),
      ...body.received.map((r) => r.sent_at),
    ])
      expect(time).toMatch(ISO)
    expect((await api('/api/admin/subscribers/no-such-id')).status).toBe(404)
  })

  it("shows an import's history line with its data as an object", async () => {
    const csv =
      'email,status,lessons_received,consent_at,consent_text\nimported.detail@example.com,paused,2,2026-11-01T10:00:00Z,I agree'
    const imported = await get(
      '/api/admin/subscribers/import',
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/csv', 'CF-Connecting-IP': nextIp() },
        body: csv,
      },
      admin,
    )
    expect(imported.status).toBe(200)
    const row = await env.DB.prepare('SELECT id FROM subscribers WHERE email_normalized = ?')
      .bind('imported.detail@example.com')
      .first<{ id: string }>()
    const body = v.parse(subscriberDetailAnswer, await (await api(`/api/admin/subscribers/${row?.id}`)).json())
    expect(body.events).toEqual([
      { type: 'imported', at: expect.stringMatching(ISO), data: { status: 'paused', lessons_received: 2 } },
    ])
    expect(body.subscriber.consent.at).toBe('2026-11-01T10:00:00.000Z')
  })
})

describe('a page of the list', () => {
  it('shows every time in ISO 8601', async () => {
    const res = await api('/api/admin/subscribers?limit=3')
    const { subscribers } = (await res.json()) as { subscribers: Record<string, unknown>[] }
    expect(subscribers).toHaveLength(3)
    for (const s of subscribers) {
      expect(s.created_at).toMatch(ISO)
      expect((s.consent as { at: string }).at).toMatch(ISO)
    }
  })
})

describe('a test send', () => {
  const send = (body: unknown) =>
    get(
      '/api/admin/test-email',
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      },
      admin,
    )

  it('puts any lesson or the confirmation, as a subscriber gets it, in the given inbox', async () => {
    expect((await send({ to: 'marketer@example.com', email: 'lesson', lesson: 3 })).status).toBe(202)
    const confirmation = await send({ to: 'marketer@example.com', email: 'confirmation' })
    expect(confirmation.status).toBe(202)
    // The answer names the subject as it went out, not the template's placeholders.
    expect(((await confirmation.json()) as { subject: string }).subject).toBe(
      '[Test] Please confirm: The cure back pain program',
    )
    const mails = await mailsTo('marketer@example.com', 2)
    expect(mails.map((m) => m.subject).sort()).toEqual([
      '[Test] Lesson 3 of 5: Spine Exercises Surprises',
      '[Test] Please confirm: The cure back pain program',
    ])
    for (const m of mails) {
      expect(`${m.html}${m.text}`).not.toContain('{{')
      expect(m.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    }
  })

  it('refuses a bad address, email or lesson with 400 naming it', async () => {
    const field = async (body: unknown) =>
      Object.keys(((await (await send(body)).json()) as { error: { fields: object } }).error.fields)
    expect(await field({ to: 'nobody', email: 'lesson' })).toEqual(['to'])
    expect(await field({ to: 'a@example.com', email: 'newsletter' })).toEqual(['email'])
    expect(await field({ to: 'a@example.com', email: 'lesson', lesson: 9 })).toEqual(['lesson'])
  })
})
