import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../src/index'
import { localTime } from '../src/lib/schedule'
import {
  consentText,
  cronAt,
  get,
  lessonsDrained,
  linkIn,
  mailsTo,
  publish,
  signup,
  subscriberByEmail,
} from './helpers'

const build = inject('siteBuild')
const consent = consentText(build)
const HOUR = 3_600_000
const DAY = 24 * HOUR

beforeAll(async () => {
  await publish(build)
})

/** Signs up and confirms an address through the real routes; returns its id and links. */
async function confirmed(email: string, timezone: string, name?: string) {
  await signup({ email, consent, timezone, ...(name ? { name } : {}) }, { json: true })
  const [mail] = await mailsTo(email)
  if (!mail) throw new Error(`no confirmation for ${email}`)
  await get(linkIn(mail, 'confirm'), { method: 'POST' })
  const row = await subscriberByEmail(email)
  return { id: row?.id ?? '' }
}

interface Delivery {
  subscriber_id: string
  round: number
  lesson: number
  status: string
  dispatched_at: number
}

/**
 * Every delivery row seen so far, by subscriber, round and lesson: the daily retention (04:00 UTC)
 * deletes the rows of lessons sent over three days before, so the simulation reads them as it goes.
 */
const seen = new Map<string, Delivery>()
async function look() {
  const { results } = await env.DB.prepare(
    `SELECT d.subscriber_id, d.round, d.lesson, d.status, b.dispatched_at
     FROM deliveries d JOIN lesson_batches b USING (batch_key)`,
  ).all<Delivery>()
  for (const d of results) seen.set(`${d.subscriber_id}:${d.round}:${d.lesson}`, d)
}

/** The cron at a simulated time, the lessons queue drained, and what it sent noted. */
const tick = async (t: number) => {
  await cronAt(t)
  await look()
}

/** A subscriber's deliveries, lesson by lesson: those seen during the simulation and those still stored. */
const deliveries = async (id: string) => {
  await look()
  return [...seen.values()]
    .filter((d) => d.subscriber_id === id)
    .sort((a, b) => a.lesson - b.lesson || a.round - b.round)
    .map(({ lesson, status, dispatched_at }) => ({ lesson, status, dispatched_at }))
}

describe('a course over several weeks, with the cron run at simulated times', () => {
  it('gives each subscriber lessons 1..5 once, in order, at 08:00 their time, on weekdays', async () => {
    const people = [
      { email: 'la@example.com', tz: 'America/Los_Angeles' },
      { email: 'akl@example.com', tz: 'Pacific/Auckland' },
      { email: 'ldn@example.com', tz: 'Europe/London', name: "Zoë O'Neil" },
    ] as { email: string; tz: string; name?: string }[]
    const ids = await Promise.all(people.map((p) => confirmed(p.email, p.tz, p.name).then((c) => c.id)))
    const start = Math.ceil(Date.now() / HOUR) * HOUR
    for (let t = start; t <= start + 28 * DAY; t += HOUR) await tick(t)

    for (const [i, p] of people.entries()) {
      const sent = await deliveries(ids[i] ?? '')
      expect(sent.map((d) => d.lesson)).toEqual([1, 2, 3, 4, 5])
      expect(sent.every((d) => d.status === 'sent')).toBe(true)
      for (const d of sent.slice(1)) {
        const local = localTime(d.dispatched_at, p.tz)
        expect(local.hour, `${p.email} lesson ${d.lesson}`).toBe(8)
        const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay()
        expect([0, 6], `${p.email} lesson ${d.lesson} on a weekend`).not.toContain(weekday)
      }
      for (let k = 1; k < sent.length; k++)
        expect((sent[k]?.dispatched_at ?? 0) - (sent[k - 1]?.dispatched_at ?? 0)).toBeGreaterThanOrEqual(2 * DAY)
      const mails = await mailsTo(p.email, 7)
      const lessonSubjects = mails.map((m) => m.subject).filter((s) => s.startsWith('Lesson'))
      expect(lessonSubjects.sort()).toEqual(
        [1, 2, 3, 4, 5].map((n) => expect.stringMatching(new RegExp(`^Lesson ${n} of 5`))),
      )
      expect(mails.filter((m) => m.subject.startsWith('You have finished'))).toHaveLength(1)
      for (const m of mails) {
        expect(`${m.subject}${m.html}${m.text}`, m.subject).not.toContain('{{')
        expect(m.headers['List-Unsubscribe'], m.subject).toMatch(/^<http:\/\/localhost\/unsubscribe\/[\w.-]+>$/)
        expect(m.headers['List-Unsubscribe-Post'], m.subject).toBe('List-Unsubscribe=One-Click')
        expect(m.html, m.subject).toContain(m.headers['List-Unsubscribe']?.slice(1, -1))
        expect(m.text, m.subject).toMatch(/\/preferences\/|\/confirm\//)
      }
      if (p.name) {
        const lesson = mails.find((m) => m.subject.startsWith('Lesson 2'))
        expect(lesson?.html).toContain('Hi Zoë O&#39;Neil,')
        expect(lesson?.text).toContain("Hi Zoë O'Neil,")
      }
      expect((await subscriberByEmail(p.email))?.status).toBe('completed')
      // The marketer's endpoint hears of the completion too.
      const toldOf = async () =>
        ((await (await fetch(`${inject('hookUrl')}/__received`)).json()) as { body: string }[])
          .map((r) => JSON.parse(r.body) as { type: string; data: { email: string } })
          .filter((e) => e.data.email === p.email)
          .map((e) => e.type)
      for (let i = 0; i < 100 && !(await toldOf()).includes('subscriber.completed'); i++)
        await new Promise((r) => setTimeout(r, 25))
      const told = await toldOf()
      expect(told).toContain('subscriber.completed')
    }
  }, 120_000)
})

describe('a subscriber changing course mid-way', () => {
  it('gets nothing while paused, and the next lesson in order after resuming', async () => {
    const { id } = await confirmed('pauser@example.com', 'Europe/Berlin')
    const start = Math.ceil(Date.now() / HOUR) * HOUR
    await tick(start)
    expect((await deliveries(id)).map((d) => d.lesson)).toEqual([1])
    await env.DB.prepare("UPDATE subscribers SET status = 'paused' WHERE id = ?").bind(id).run()
    for (let t = start; t <= start + 14 * DAY; t += 6 * HOUR) await tick(t)
    expect((await deliveries(id)).map((d) => d.lesson)).toEqual([1])
    await env.DB.prepare("UPDATE subscribers SET status = 'active' WHERE id = ?").bind(id).run()
    await tick(start + 15 * DAY)
    expect((await deliveries(id)).map((d) => d.lesson)).toEqual([1, 2])
  }, 60_000)

  it('gets no next lesson after unsubscribing, even when that lesson is already queued', async () => {
    const { id } = await confirmed('quitter@example.com', 'Europe/Paris')
    const start = Math.ceil(Date.now() / HOUR) * HOUR
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: start }), env, ctx)
    await waitOnExecutionContext(ctx)
    // The lesson is on the queue now; the subscriber leaves before the consumer runs.
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed', next_send_at = NULL WHERE id = ?")
      .bind(id)
      .run()
    await new Promise((r) => setTimeout(r, 1_500))
    expect(await deliveries(id)).toEqual([])
    expect((await mailsTo('quitter@example.com')).map((m) => m.subject)).toEqual([
      'Please confirm: The cure back pain program',
    ])
  })

  it('is sent lesson 1 by the deployed Worker the same way (its scheduled export)', async () => {
    const { id } = await confirmed('export@example.com', 'UTC')
    // The loopback binding's scheduled() takes scheduledTime in ms (a Date would reach the handler as is).
    const deployed = exports.default as unknown as {
      scheduled(o: { scheduledTime: number; cron: string }): Promise<unknown>
    }
    await deployed.scheduled({ scheduledTime: Date.now() + HOUR, cron: '*/5 * * * *' })
    await lessonsDrained()
    await new Promise((r) => setTimeout(r, 1_500))
    await lessonsDrained()
    expect((await deliveries(id)).map((d) => d.lesson)).toEqual([1])
  })
})

describe('a lesson, as its reader gets it', () => {
  it('links to its own section of the essay on this Worker, and says the day the next lesson really comes', async () => {
    const { id } = await confirmed('truthful@example.com', 'UTC')
    // Lesson 1 goes out on a Thursday; three days on is a Sunday, so with weekends skipped lesson 2 is Monday's.
    const thursday = Date.UTC(2031, 0, 2, 8, 0)
    await env.DB.prepare('UPDATE subscribers SET next_send_at = ? WHERE id = ?').bind(thursday, id).run()
    await cronAt(thursday)
    const lesson = (await mailsTo('truthful@example.com', 2)).find((m) => m.subject.startsWith('Lesson 1 of 5'))
    if (!lesson) throw new Error('no lesson 1')
    const next = (await subscriberByEmail('truthful@example.com'))?.next_send_at as number
    expect(new Date(next).getUTCDay()).toBe(1)
    expect(lesson.text).toMatch(/Next: lesson 2, .+, on Monday, (6 January|January 6)\./)
    expect(lesson.text).not.toContain('in about')
    // PUBLIC_URL is the tests' http://localhost, not content/site.json's baseUrl.
    // The web link goes through /r/ on the site itself, which counts it and leads to the lesson's section.
    const web = /href="([^"]+)"[^>]*>\s*Read this lesson on the web/.exec(lesson.html)?.[1]?.replaceAll('&amp;', '&')
    expect(web?.startsWith('http://localhost/r/')).toBe(true)
    const to = (await get(new URL(web ?? '').pathname, { redirect: 'manual' })).headers.get('location') ?? ''
    expect(to.startsWith('/back-pain/back-exercises/spine-exercises?utm_source=')).toBe(true)
    expect(to).toContain('utm_content=lesson-1')
    const urls = [...lesson.html.matchAll(/href="(https?:\/\/[^"]+)"/g)].map((m) => m[1] ?? '')
    expect(urls.filter((u) => u.includes(new URL(build.settings.baseUrl).host))).toEqual([])
  })
})
