import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { adminSession, cronAt, get, mailsTo, makeSubscriber, nextIp, publish, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const HOUR = 3_600_000
let links: string[] = []
let id = ''

const clicks = async () =>
  (
    await env.DB.prepare('SELECT email, link FROM clicks WHERE subscriber_id = ?')
      .bind(id)
      .all<{ email: string; link: string }>()
  ).results

beforeAll(async () => {
  await publish(inject('siteBuild'))
  id = await makeSubscriber({ email: 'clicker@example.com', next_send_at: Date.now() })
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
  })

  it('is not counted for a HEAD (a link checker or a mail scanner)', async () => {
    const res = await get(links[0] ?? '', { method: 'HEAD', redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(await clicks()).toHaveLength(1)
  })

  it('still leads to its page with a token that does not verify (a test send), and counts nothing', async () => {
    const link = (links[0] ?? '').split('/').pop()
    const res = await get(`/r/sample/${link}`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toMatch(/^\/back-pain\//)
    expect(await clicks()).toHaveLength(1)
  })

  it('is never an open redirect: only links the build put in an email lead anywhere', async () => {
    const token = (links[0] ?? '').split('/')[2]
    for (const link of ['https:%2F%2Fevil.example', 'constructor', '__proto__', 'AAAAAAAAAAAA'])
      expect((await get(`/r/${token}/${link}`, { redirect: 'manual' })).status, link).toBe(404)
    expect(await clicks()).toHaveLength(1)
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
    const res = await get(
      '/api/admin/stats',
      { headers: { Authorization: `Bearer ${TOKEN}`, 'CF-Connecting-IP': nextIp() } },
      admin,
    )
    const body = (await res.json()) as {
      clicks: {
        by_email: Record<string, number>
        by_link: { email: string; link: string; clicks: number; readers: number; target: string }[]
      }
    }
    expect(body.clicks.by_email).toEqual({ 'lesson:cure-back-pain-program:1': 1 })
    expect(body.clicks.by_link).toEqual([
      expect.objectContaining({
        email: 'lesson:cure-back-pain-program:1',
        clicks: 1,
        readers: 1,
        target: expect.stringMatching(/^\/back-pain\//),
      }),
    ])
  })
})

describe('erasure', () => {
  it('leaves no click of the person behind', async () => {
    const res = await get(
      '/api/admin/people/clicker@example.com',
      { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } },
      admin,
    )
    expect(res.status).toBe(200)
    expect(await clicks()).toEqual([])
  })
})
