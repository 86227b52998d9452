import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { localDay, localTime, morningAfter, nextMorning } from '../src/lib/schedule'
import { cronAt, get, makeSubscriber, outbox, publish } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const build = inject('secondEssayBuild')
const ESSAY = '/back-pain/posture/sitting-all-day'
const HOUR = 3_600_000
const DAY = 24 * HOUR
const ZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo']

const api = (path: string, method = 'GET', body?: unknown) =>
  get(
    path,
    {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    admin,
  )

/** Who is on the list, by what the week must do for them. */
const people: { email: string; tz: string; gets: boolean; columns: Record<string, string | number | null> }[] = []
const start = Math.ceil(Date.now() / HOUR) * HOUR
const MORNING = { sendHour: 8, skipWeekends: true }

beforeAll(async () => {
  await publish(build)
  for (const tz of ZONES) {
    const zone = tz.split('/')[1]?.toLowerCase()
    const add = (kind: string, gets: boolean, columns: Record<string, string | number | null>) =>
      people.push({ email: `${kind}-${zone}@example.com`, tz, gets, columns })
    // In the course, the next lesson due on the very morning the broadcast would go: it yields a day.
    add('in-course', true, { status: 'active', newsletter: 'active', next_send_at: nextMorning(start, tz, MORNING) })
    add('finished', true, { status: 'completed', lesson_position: 5, newsletter: 'active' })
    add('newsletter-only', true, { status: 'unsubscribed', newsletter: 'active' })
  }
  people.push(
    {
      email: 'left-newsletter@example.com',
      tz: 'Europe/Berlin',
      gets: false,
      columns: { status: 'active', newsletter: 'left', next_send_at: nextMorning(start, 'Europe/Berlin', MORNING) },
    },
    {
      email: 'unsubscribed@example.com',
      tz: 'Asia/Tokyo',
      gets: false,
      columns: { status: 'unsubscribed', newsletter: 'left' },
    },
    {
      email: 'bounced@example.com',
      tz: 'America/New_York',
      gets: false,
      columns: { status: 'bounced', newsletter: 'active' },
    },
    {
      email: 'erased@example.com',
      tz: 'Europe/Berlin',
      gets: false,
      columns: { status: 'completed', newsletter: 'active' },
    },
  )
  for (const p of people) await makeSubscriber({ email: p.email, timezone: p.tz, ...p.columns })
})

const idOf = async (email: string) =>
  (await env.DB.prepare('SELECT id FROM subscribers WHERE email = ?').bind(email).first<{ id: string }>())?.id

/**
 * What the week sent, noted after each cron run: the daily retention (04:00 UTC) deletes the rows
 * of lessons sent and of broadcasts finished over three days before. Lessons by subscriber, round
 * and lesson, with the cron's time of their batch; the broadcast's recipients sent, with when.
 */
const lessonsSeen = new Map<string, { subscriber_id: string; at: number }>()
const broadcastSeen = new Map<string, number>()
async function look(broadcast: string) {
  const [lessons, recipients] = await env.DB.batch([
    env.DB.prepare(
      `SELECT d.subscriber_id, d.round, d.lesson, b.dispatched_at AS at FROM deliveries d JOIN lesson_batches b USING (batch_key)
       WHERE d.status = 'sent'`,
    ),
    env.DB.prepare(
      "SELECT subscriber_id, sent_at FROM broadcast_recipients WHERE broadcast_id = ? AND status = 'sent'",
    ).bind(broadcast),
  ])
  for (const r of (lessons?.results ?? []) as { subscriber_id: string; round: number; lesson: number; at: number }[])
    lessonsSeen.set(`${r.subscriber_id}:${r.round}:${r.lesson}`, r)
  for (const r of (recipients?.results ?? []) as { subscriber_id: string; sent_at: number }[])
    broadcastSeen.set(r.subscriber_id, r.sent_at)
}

/** When each lesson went to a subscriber: the cron's time of its batch. */
const lessonTimes = (id: string) => [...lessonsSeen.values()].filter((r) => r.subscriber_id === id).map((r) => r.at)

describe('a week of the newsletter at local morning, with the cron run every hour of simulated time', () => {
  it('reaches each member once, at 08:00 their time on a weekday, never on a lesson day; nobody else', async () => {
    // Lesson ids before the erasure, so their lessons can be checked.
    const ids = new Map<string, string | undefined>()
    for (const p of people) ids.set(p.email, await idOf(p.email))

    const res = await api('/api/admin/broadcasts', 'POST', { path: ESSAY, send: 'local-morning' })
    expect(res.status).toBe(201)
    const b = (await res.json()) as { id: string; status: string; recipients: number }
    // Taken when scheduled: the nine members and the one about to be erased; never the bounced or those who left.
    expect(b).toMatchObject({ status: 'scheduled', recipients: 10 })
    const erased = await get(
      '/api/admin/people/erased@example.com',
      { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } },
      admin,
    )
    expect(erased.status).toBe(200)

    for (let t = start; t <= start + 7 * DAY; t += HOUR) {
      await cronAt(t)
      await look(b.id)
    }

    const state = (await (await api(`/api/admin/broadcasts/${b.id}`)).json()) as Record<string, unknown>
    expect(state).toMatchObject({ status: 'sent', sent: 9, failed: 0 })

    const mails = (await outbox()).filter((m) => m.subject === 'Sitting All Day')
    for (const p of people) {
      const mine = mails.filter((m) => m.to === p.email)
      expect(mine, p.email).toHaveLength(p.gets ? 1 : 0)
      if (!p.gets) continue
      const at = broadcastSeen.get(ids.get(p.email) as string) as number
      expect(at, p.email).toBeGreaterThan(0)
      const local = localTime(at, p.tz)
      expect(`${p.email} at ${local.hour}:${local.minute}`).toBe(`${p.email} at 8:0`)
      const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay()
      expect(weekday === 0 || weekday === 6, `${p.email} on a weekend`).toBe(false)
      const lessons = lessonTimes(ids.get(p.email) as string)
      expect(
        lessons.map((l) => localDay(l, p.tz)),
        p.email,
      ).not.toContain(localDay(at, p.tz))
      // The one whose lesson fell on the broadcast's morning got the lesson then, and the broadcast the next allowed morning.
      if (p.email.startsWith('in-course')) expect(at, p.email).toBe(morningAfter(Math.min(...lessons), p.tz, MORNING))
      else expect(at, p.email).toBe(nextMorning(start, p.tz, MORNING))
    }
  }, 180_000)

  it('the course goes on for the reader who left the newsletter', async () => {
    const id = (await idOf('left-newsletter@example.com')) as string
    expect(lessonTimes(id).length).toBeGreaterThanOrEqual(2)
  })

  it('and the course readers had lessons that week, the broadcast having yielded to them', async () => {
    for (const tz of ZONES) {
      const id = (await idOf(`in-course-${tz.split('/')[1]?.toLowerCase()}@example.com`)) as string
      expect(lessonTimes(id).length, tz).toBeGreaterThanOrEqual(2)
    }
  })
})
