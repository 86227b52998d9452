/**
 * Data that grows with every email (issue 13): compaction of what a finished send no longer needs,
 * the raw history's retention period, and the counters that keep every figure. Each test builds
 * its history through the real paths: the cron and the queue's consumers send, Resend's webhooks
 * arrive through their route, a reader follows a /r/ link.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { applyRetention, COMPACT_AFTER_MS } from '../src/admin/retention'
import {
  ADMIN_TOKEN,
  adminApi,
  adminSession,
  cronAt,
  get,
  lessonsDrained,
  mailsTo,
  makeSubscriber,
  outbox,
  publish,
} from './helpers'
import { deliver, providerEvent, withWebhookSecret } from './support/resend-webhook'

const admin: Env = { ...withWebhookSecret, ADMIN_TOKEN }
const DAY = 86_400_000
const LETTER = '/letters/welcome'
const COURSE = 'cure-back-pain-program'

const api = adminApi(admin)

const settings = async () => inject('siteBuild').settings

/** Resend's report on one email, with the tags it was sent with, through the webhook route. */
async function report(type: string, to: string, tags: Record<string, string>, extra: Record<string, unknown> = {}) {
  const res = await deliver(
    { ...providerEvent(type, to, extra), data: { to: [to], tags, ...extra } },
    { bindings: admin },
  )
  expect(res.status, `${type} for ${to}`).toBe(200)
}

const count = async (table: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0

/** Every figure a marketer reads: the stats API, the broadcast's progress and the dashboard's overview. */
async function figures(broadcastId: string, cookie: string) {
  const stats = await (await api('/api/admin/stats')).json()
  const broadcast = (await (await api(`/api/admin/broadcasts/${broadcastId}`)).json()) as Record<string, unknown>
  const overview = await (await get('/admin', { headers: { Cookie: cookie } }, admin)).text()
  const main = overview.slice(overview.indexOf('<main'), overview.indexOf('</main>'))
  return { stats, progress: [broadcast.sent, broadcast.skipped, broadcast.failed], main }
}

let broadcastId = ''
const people = ['ana', 'ben', 'cleo', 'dev'].map((n) => `${n}@retention.example`)
const ids = new Map<string, string>()

beforeAll(async () => {
  await publish(inject('siteBuild'))
  const now = Date.now()
  for (const email of people)
    ids.set(
      email,
      await makeSubscriber({
        email,
        next_send_at: now,
        created_at: now - DAY,
        newsletter: 'active',
        newsletter_joined_at: now - DAY,
      }),
    )
  // Lesson 1 to each, then a broadcast to each: the queue's consumers send them.
  await cronAt(now)
  const res = await api('/api/admin/broadcasts', 'POST', { path: LETTER, send: 'now' })
  expect(res.status).toBe(201)
  broadcastId = ((await res.json()) as { id: string }).id
  await lessonsDrained()
  // What Resend reports: delivered for every email, two opens, one complaint; a reader follows a link.
  const lesson = { type: 'lesson', course: COURSE, lesson: '1' }
  const broadcast = { type: 'broadcast', broadcast: broadcastId }
  for (const email of people) {
    const subscriber = ids.get(email) ?? ''
    await report('email.delivered', email, { ...lesson, subscriber })
    await report('email.delivered', email, { ...broadcast, subscriber })
  }
  await report('email.opened', 'ana@retention.example', {
    ...lesson,
    subscriber: ids.get('ana@retention.example') ?? '',
  })
  await report('email.opened', 'ben@retention.example', {
    ...broadcast,
    subscriber: ids.get('ben@retention.example') ?? '',
  })
  await report('email.complained', 'dev@retention.example', {
    ...broadcast,
    subscriber: ids.get('dev@retention.example') ?? '',
  })
  const [mail] = (await mailsTo('cleo@retention.example', 2)).filter((m) => m.subject.startsWith('Lesson 1'))
  const link = mail?.html.match(/href="http:\/\/localhost(\/r\/[^"]+)"/)?.[1]
  expect(link).toBeDefined()
  expect((await get(link ?? '', { redirect: 'manual' })).status).toBe(302)
})

describe('the daily compaction and retention', () => {
  it('changes no figure: the stats API, the broadcast and the dashboard read the same after it', async () => {
    const cookie = await adminSession(admin)
    const before = await figures(broadcastId, cookie)
    // The figures are there to be kept: 4 lessons sent and delivered, one opened; one click.
    const lessons = (before.stats as { lessons: Record<string, number>[] }).lessons
    expect(lessons.find((l) => l.lesson === 1)).toMatchObject({ sent: 4, delivered: 4, opened: 1 })
    expect(before.main).toContain('Clicked')
    expect(await count('receipts')).toBeGreaterThanOrEqual(8)

    // Fourteen months on: past compaction and past the 13 months of raw history.
    const done = await applyRetention(env.DB, await settings(), Date.now() + 425 * DAY)
    expect(done.broadcastRecipients).toBe(4)
    expect(done.receipts).toBeGreaterThanOrEqual(8)
    expect(await count('receipts')).toBe(0)
    expect(await count('link_clicks')).toBe(0)
    expect(await count('trouble')).toBe(0)
    expect(await count('broadcast_recipients')).toBe(0)

    const after = await figures(broadcastId, cookie)
    expect(after.stats).toEqual(before.stats)
    expect(after.progress).toEqual(before.progress)
    expect(after.main).toEqual(before.main)
  })

  it('keeps raw history younger than the retention period, and what is still being sent', async () => {
    const id = await makeSubscriber({ email: 'recent@retention.example', next_send_at: Date.now() })
    await cronAt(Date.now())
    await report('email.delivered', 'recent@retention.example', {
      type: 'lesson',
      course: COURSE,
      lesson: '1',
      subscriber: id,
    })
    // A day later nothing of it goes: the delivery row still makes its send exactly once.
    await applyRetention(env.DB, await settings(), Date.now() + DAY)
    const held = await (await api(`/api/admin/subscribers/${id}`)).json()
    expect(held).toMatchObject({
      deliveries: [{ lesson: 1, status: 'sent' }],
      received: [{ email: `lesson:${COURSE}:1`, events: ['delivered'] }],
    })
  })
})

describe('exactly once, after compaction', () => {
  it('a lesson batch delivered again after its rows were compacted sends nothing', async () => {
    const now = Date.now()
    const id = await makeSubscriber({ email: 'again@retention.example', next_send_at: now })
    await cronAt(now)
    const job = {
      kind: 'lessons',
      course: COURSE,
      pairs: [{ subscriberId: id, round: 1, lesson: 1 }],
      dispatchedAt: now,
    }
    await applyRetention(env.DB, await settings(), now + COMPACT_AFTER_MS + DAY)
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM deliveries WHERE subscriber_id = ?').bind(id).first(),
    ).toEqual({ n: 0 })
    // The queue delivers the batch's message again (an at-least-once redelivery).
    await env.LESSONS.send(job)
    await new Promise((r) => setTimeout(r, 300))
    await lessonsDrained()
    const mails = (await outbox()).filter((m) => m.to === 'again@retention.example' && m.subject.startsWith('Lesson 1'))
    expect(mails).toHaveLength(1)
  })

  it('a broadcast batch delivered again after the 04:00 cron compacted it sends nothing', async () => {
    const id = await makeSubscriber({
      email: 'once@retention.example',
      status: 'completed',
      newsletter: 'active',
      newsletter_joined_at: Date.now(),
    })
    const res = await api('/api/admin/broadcasts', 'POST', { path: LETTER, send: 'now' })
    expect(res.status).toBe(201)
    const b = (await res.json()) as { id: string }
    await lessonsDrained()
    const mine = async () => (await outbox()).filter((m) => m.to === 'once@retention.example').length
    expect(await mine()).toBe(1)
    // The 04:00 UTC cron four days on compacts the finished broadcast's recipient rows.
    const fourAm = Math.floor((Date.now() + 4 * DAY) / DAY) * DAY + 4 * 3_600_000
    await cronAt(fourAm)
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM broadcast_recipients WHERE broadcast_id = ?').bind(b.id).first(),
    ).toEqual({ n: 0 })
    await env.LESSONS.send({ kind: 'broadcast', broadcastId: b.id, subscriberIds: [id], dispatchedAt: Date.now() })
    await new Promise((r) => setTimeout(r, 300))
    await lessonsDrained()
    expect(await mine()).toBe(1)
    expect(await (await api(`/api/admin/broadcasts/${b.id}`)).json()).toMatchObject({ status: 'sent' })
  })
})

describe('an erased subscriber', () => {
  it('leaves nothing that names them, in the counters or anywhere else; the figures stay', async () => {
    const email = 'erase-me@retention.example'
    const id = await makeSubscriber({ email, next_send_at: Date.now() })
    const num = (await env.DB.prepare('SELECT num FROM subscribers WHERE id = ?').bind(id).first<{ num: number }>())
      ?.num
    await cronAt(Date.now())
    const tags = { type: 'lesson', course: COURSE, lesson: '1', subscriber: id }
    await report('email.delivered', email, tags)
    await report('email.bounced', email, tags, { bounce: { type: 'Transient' } })
    const [mail] = await mailsTo(email)
    const link = mail?.html.match(/href="http:\/\/localhost(\/r\/[^"]+)"/)?.[1]
    await get(link ?? '', { redirect: 'manual' })
    type Stats = { lessons: unknown; clicks: unknown }
    const before = (await (await api('/api/admin/stats')).json()) as Stats

    const erased = await api(`/api/admin/people/${email}`, 'DELETE')
    expect(erased.status).toBe(200)

    // Nothing in any table holds the address or the id.
    const { results: tables } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    ).all<{ name: string }>()
    expect(tables.map((t) => t.name)).toContain('email_counts')
    for (const { name } of tables) {
      const rows = JSON.stringify((await env.DB.prepare(`SELECT * FROM ${name}`).all()).results)
      expect(rows.includes(email), `${name} holds the address`).toBe(false)
      expect(rows.includes(id), `${name} holds the id`).toBe(false)
    }
    // The compact tables, keyed by the subscriber's number, hold nothing of it either.
    for (const table of ['receipts', 'link_clicks', 'trouble'])
      expect(
        await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE subscriber = ?`).bind(num).first(),
        table,
      ).toEqual({ n: 0 })
    // The counters name emails and days, not people, and keep what happened to their emails.
    const after = (await (await api('/api/admin/stats')).json()) as Stats
    expect(after.lessons).toEqual(before.lessons)
    expect(after.clicks).toEqual(before.clicks)
  })
})

describe('the privacy page', () => {
  it('says how long the raw history is kept, as content/site.json sets it, and every page links to it', async () => {
    const months = inject('siteBuild').settings.retention?.rawMonths
    expect(months).toBe(13)
    const res = await get('/privacy')
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain(`<strong>${months} months</strong>`)
    expect(html).toMatch(/only counts\s+remain/)
    const essay = await (await get('/back-pain/back-exercises/spine-exercises')).text()
    expect(essay).toMatch(/<footer class="site">[\s\S]*href="\/privacy"/)
    // A notice, not a section of the site: the navigation leaves it out.
    expect(essay.match(/<nav[\s\S]*?<\/nav>/)?.[0]).not.toContain('/privacy')
  })
})
