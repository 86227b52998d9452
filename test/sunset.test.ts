import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { clickToken } from '../src/subscribers/links'
import { cronAt, get, linkIn, mailsTo, makeSubscriber, publish, subscriberByEmail } from './helpers'

const build = inject('siteBuild')
const DAY = 86_400_000
const HOUR = 3_600_000
/** The next 04:00 UTC: the cron run that applies the policy. */
const fourAm = (() => {
  const d = new Date(Date.now() + DAY)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 4)
})()
const SUBJECT = 'Do you still want our emails?'

/** A subscriber who was sent `lessons` lessons (the last `daysAgo` days ago) and maybe clicked after. */
async function reader(email: string, lessons: number, clickedAfter = false) {
  const id = await makeSubscriber({ email, status: 'active', lesson_position: lessons, newsletter: 'active' })
  const past = Date.now() - 10 * DAY
  // Each lesson recorded as the lessons consumer does: 'sending', then 'sent' (which keeps its receipt).
  for (let n = 1; n <= lessons; n++) {
    await env.DB.prepare(
      `INSERT INTO deliveries (subscriber_id, round, lesson, course, status, batch_key, created_at)
       VALUES (?, 1, ?, 'cure-back-pain-program', 'sending', 'test', ?)`,
    )
      .bind(id, n, past + n * DAY)
      .run()
    await env.DB.prepare(
      "UPDATE deliveries SET status = 'sent', sent_at = ? WHERE subscriber_id = ? AND round = 1 AND lesson = ?",
    )
      .bind(past + n * DAY, id, n)
      .run()
  }
  if (clickedAfter) {
    // A link of the last lesson, followed now (after it was sent), as the reader's email carries it.
    const token = await clickToken(env.SIGNING_KEY ?? '', id, `lesson:cure-back-pain-program:${lessons}`, Date.now())
    const link = Object.keys(build.links)[0]
    expect((await get(`/r/${token}/${link}`, { redirect: 'manual' })).status).toBe(302)
    expect((await subscriberByEmail(email))?.last_click_at).toBeGreaterThan(past + lessons * DAY)
  }
  return id
}

const asked = async () =>
  (
    await env.DB.prepare('SELECT email FROM subscribers WHERE sunset_asked_at IS NOT NULL ORDER BY email').all<{
      email: string
    }>()
  ).results.map((r) => r.email)

beforeAll(async () => {
  await publish(build)
  await reader('quiet@example.com', 2)
  await reader('answers@example.com', 2)
  await reader('clicker@example.com', 2, true)
  await reader('new@example.com', 1)
})

describe('the sunset policy', () => {
  it('is off by default: nobody is asked', async () => {
    await publish(build)
    await cronAt(fourAm)
    expect(await asked()).toEqual([])
  })

  it('asks, once a day, each reader with no click in their last 2 emails, and nobody else', async () => {
    const on = structuredClone(build)
    on.settings.sunset = { afterEmails: 2, graceDays: 7 }
    await publish(on)
    // The Worker trusts its copy of the manifest for 5 s: wait for it to read the new settings.
    await new Promise((r) => setTimeout(r, 5_200))
    await cronAt(fourAm - HOUR)
    expect(await asked()).toEqual([])
    await cronAt(fourAm)
    expect(await asked()).toEqual(['answers@example.com', 'quiet@example.com'])
    const [mail] = (await mailsTo('quiet@example.com')).filter((m) => m.subject === SUBJECT)
    expect(mail?.text).toContain('we will stop writing to you in 7 days')
    expect(mail?.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    const history = await env.DB.prepare(
      "SELECT count(*) AS n FROM subscriber_events WHERE type = 'sunset_asked'",
    ).first<{ n: number }>()
    expect(history?.n).toBe(2)
  }, 20_000)

  it('keeps a reader who presses the button, and counts their emails afresh', async () => {
    const [mail] = (await mailsTo('answers@example.com')).filter((m) => m.subject === SUBJECT)
    const stay = /\/stay\/[^\s\])]+/.exec(mail?.text ?? '')?.[0] ?? ''
    expect((await get(stay)).status).toBe(200)
    const res = await get(stay, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('we will keep writing')
    expect((await subscriberByEmail('answers@example.com'))?.sunset_asked_at).toBeNull()
  })

  it('unsubscribes from everything the reader who did not answer in the grace period, as a transition', async () => {
    await cronAt(fourAm + 8 * DAY)
    expect(await subscriberByEmail('quiet@example.com')).toMatchObject({
      status: 'unsubscribed',
      newsletter: 'left',
      sunset_asked_at: null,
    })
    const line = await env.DB.prepare(
      "SELECT e.data FROM subscriber_events e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = 'quiet@example.com' AND e.type = 'unsubscribed'",
    ).first<{ data: string }>()
    expect(JSON.parse(line?.data ?? '{}')).toEqual({ reason: 'sunset', topic: 'all' })
    for (const email of ['answers@example.com', 'clicker@example.com', 'new@example.com'])
      expect((await subscriberByEmail(email))?.status, email).toBe('active')
  })

  it('answers a forged or misdirected stay link with a clear page, changing nothing', async () => {
    expect((await get('/stay/not-a-token', { method: 'POST' })).status).toBe(400)
    // The unsubscribe link of the same email is signed for another purpose: refused here.
    const [mail] = (await mailsTo('answers@example.com')).filter((m) => m.subject === SUBJECT)
    const unsubscribe = linkIn(mail as { text: string }, 'unsubscribe').replace('/unsubscribe/', '/stay/')
    expect((await get(unsubscribe, { method: 'POST' })).status).toBe(403)
  })
})
