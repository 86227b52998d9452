import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { adminSession, cronAt, get, mailsTo, makeSubscriber, nextIp, publish, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const HOUR = 3_600_000
let links: string[] = []

const auth = { Authorization: `Bearer ${TOKEN}` }

interface Export {
  subscriptions: { num: number; last_click_at: string | null }[]
  clicks: { email: string; link: string; at: string }[]
  received: { email: string; events: string[] }[]
}
/** Everything held about the reader, as the GDPR export gives it. */
const exported = async () =>
  (await (await get('/api/admin/people/clicker@example.com', { headers: auth }, admin)).json()) as Export

/** The links the reader followed, as the GDPR export lists them. */
const clicks = async () => (await exported()).clicks.map(({ email, link }) => ({ email, link }))

/** The stats API's clicks: by email (readers) and by link (clicks, readers). */
const stats = async () => {
  const res = await get('/api/admin/stats', { headers: { ...auth, 'CF-Connecting-IP': nextIp() } }, admin)
  return (
    (await res.json()) as {
      clicks: {
        by_email: Record<string, number>
        by_link: { email: string; link: string; clicks: number; readers: number; target: string }[]
      }
    }
  ).clicks
}
/** Every click the stats count, on any link. */
const counted = async () => (await stats()).by_link.reduce((n, l) => n + l.clicks, 0)

beforeAll(async () => {
  await publish(inject('siteBuild'))
  await makeSubscriber({ email: 'clicker@example.com', next_send_at: Date.now() })
  await cronAt(Date.now() + HOUR)
  const lesson = (await mailsTo('clicker@example.com')).find((m) => m.subject.startsWith('Lesson 1'))
  if (!lesson) throw new Error('no lesson 1')
  links = [...lesson.html.matchAll(/href="http:\/\/localhost(\/r\/[^"]+)"/g)].map((m) => m[1] ?? '')
})

describe('a link in a lesson', () => {
  it('goes through /r/ on our own domain, and every site link of the email does', () => {
    expect(links.length).toBeGreaterThan(0)
    for (const l of links) expect(l).toMatch(/^\/r\/[\w-]+\.[\w-]+\/[\w-]{12}$/)
  })

  it('counts the click of this reader on this lesson, then leads to the page with its UTM tags', async () => {
    const res = await get(links[0] ?? '', { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toMatch(
      /^\/back-pain\/.+\?utm_source=.+&utm_medium=email&utm_campaign=cure-back-pain-program&utm_content=lesson-1/,
    )
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await clicks()).toEqual([{ email: 'lesson:cure-back-pain-program:1', link: links[0]?.split('/').pop() }])
    expect(await counted()).toBe(1)
    // The lesson's receipt says a link of ours was followed, and the reader's row says when.
    const held = await exported()
    expect(held.received).toEqual([
      expect.objectContaining({ email: 'lesson:cure-back-pain-program:1', events: ['link'] }),
    ])
    const last = Date.parse(held.subscriptions[0]?.last_click_at ?? '')
    expect(Math.abs(last - Date.now())).toBeLessThan(60_000)
    expect(held.clicks[0]?.at).toBe(held.subscriptions[0]?.last_click_at)
  })

  it('is not counted for a HEAD (a link checker or a mail scanner)', async () => {
    const res = await get(links[0] ?? '', { method: 'HEAD', redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(await clicks()).toHaveLength(1)
    expect(await counted()).toBe(1)
  })

  it('still leads to its page with a token that does not verify (a test send), and counts nothing', async () => {
    const link = (links[0] ?? '').split('/').pop()
    const res = await get(`/r/sample/${link}`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toMatch(/^\/back-pain\//)
    expect(await clicks()).toHaveLength(1)
    expect(await counted()).toBe(1)
  })

  it('is never an open redirect: only links the build put in an email lead anywhere', async () => {
    const token = (links[0] ?? '').split('/')[2]
    for (const link of ['https:%2F%2Fevil.example', 'constructor', '__proto__', 'AAAAAAAAAAAA'])
      expect((await get(`/r/${token}/${link}`, { redirect: 'manual' })).status, link).toBe(404)
    expect(await clicks()).toHaveLength(1)
    expect(await counted()).toBe(1)
  })
})

describe('the dashboard', () => {
  it('shows the click per lesson and per link', async () => {
    const cookie = await adminSession(admin)
    const html = await (await get('/admin', { headers: { Cookie: cookie } }, admin)).text()
    const rows = await textsOf(html, 'tbody tr')
    // Cells run together in the text: per lesson, lesson 1 sent 1, delivered 0, clicked 1, then 0 0 0.
    expect(rows).toContain('Lesson 1101000')
    // Per link: the email, the page it led to, 1 click by 1 reader.
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lesson:cure-back-pain-program:1\s*\/back-pain\/.*utm_content=lesson-1\s*1\s*1$/),
      ]),
    )
  })
})

describe('the stats API', () => {
  it('gives the clicks per email and per link, with where each link leads', async () => {
    const counts = await stats()
    expect(counts.by_email).toEqual({ 'lesson:cure-back-pain-program:1': 1 })
    expect(counts.by_link).toEqual([
      expect.objectContaining({
        email: 'lesson:cure-back-pain-program:1',
        clicks: 1,
        readers: 1,
        target: expect.stringMatching(/^\/back-pain\//),
      }),
    ])
  })

  it('counts a second click on the same link as a click, not as another reader', async () => {
    const res = await get(links[0] ?? '', { redirect: 'manual' })
    expect(res.status).toBe(302)
    const counts = await stats()
    expect(counts.by_email).toEqual({ 'lesson:cure-back-pain-program:1': 1 })
    expect(counts.by_link).toEqual([expect.objectContaining({ clicks: 2, readers: 1 })])
  })
})

describe('erasure', () => {
  it('leaves no click of the person behind, and the counters, which name no one, keep their figures', async () => {
    const { num } = (await exported()).subscriptions[0] ?? { num: -1 }
    const res = await get('/api/admin/people/clicker@example.com', { method: 'DELETE', headers: auth }, admin)
    expect(res.status).toBe(200)
    expect(await clicks()).toEqual([])
    // Rows keyed by the subscriber's number, which the export can no longer reach: gone too.
    const left = await env.DB.prepare(
      'SELECT (SELECT count(*) FROM link_clicks WHERE subscriber = ?1) + (SELECT count(*) FROM receipts WHERE subscriber = ?1) AS n',
    )
      .bind(num)
      .first<{ n: number }>()
    expect(left?.n).toBe(0)
    const counts = await stats()
    expect(counts.by_email).toEqual({ 'lesson:cure-back-pain-program:1': 1 })
    expect(counts.by_link).toEqual([expect.objectContaining({ clicks: 2, readers: 1 })])
  })
})
