import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, get, makeSubscriber, publish, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const page = (path: string, cookie?: string) =>
  get(path, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} }, admin)

async function signIn(token = TOKEN) {
  return get(
    '/admin/sign-in',
    {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    },
    admin,
  )
}
const sessionOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''

beforeAll(async () => {
  await publish(inject('siteBuild'))
  const now = Date.now()
  await makeSubscriber({
    email: 'dash-a@example.com',
    created_at: now,
    confirmed_at: now,
    lesson_position: 2,
    source: 'partner',
  })
  await makeSubscriber({
    email: 'dash-b@example.com',
    created_at: now - 86_400_000,
    confirmed_at: now,
    lesson_position: 5,
    status: 'completed',
  })
  await makeSubscriber({ email: 'dash-c@example.com', created_at: now, status: 'pending' })
})

describe('signing in to the dashboard', () => {
  it('sends a visitor without a session to the sign-in page', async () => {
    const res = await page('/admin')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin/sign-in')
  })

  it('refuses a wrong token with 403 and sets no cookie', async () => {
    const res = await signIn('wrong')
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(await textsOf(await res.text(), '.notice.error')).toEqual(['That is not the admin token.'])
  })

  it('gives the right token a signed, HttpOnly, Secure, SameSite=Strict session that a forged one cannot pass for', async () => {
    const res = await signIn()
    expect(res.status).toBe(303)
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^admin_session=/)
    for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/admin']) expect(cookie).toContain(flag)
    expect((await page('/admin', sessionOf(res))).status).toBe(200)
    // Another session id under the same signature: refused.
    const forged = sessionOf(res).replace(/=[0-9a-f-]{36}/, `=${crypto.randomUUID()}`)
    expect(forged).not.toBe(sessionOf(res))
    expect((await page('/admin', forged)).status).toBe(303)
  })

  it('signs out by deleting the cookie', async () => {
    const res = await get('/admin/sign-out', { method: 'POST', redirect: 'manual' }, admin)
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/admin_session=;.*Max-Age=0/)
  })

  it('answers 503 when no admin token is configured', async () => {
    expect((await get('/admin', { redirect: 'manual' })).status).toBe(503)
  })
})

describe('a signed-in marketer', () => {
  let session = ''
  beforeAll(async () => {
    session = sessionOf(await signIn())
  })

  it('sees signups per day as a chart with axes and values, a table behind it, and the funnel with percentages', async () => {
    const html = await (await page('/admin', session)).text()
    expect(await attrsOf(html, 'svg rect', 'height')).toHaveLength(30)
    expect((await textsOf(html, 'figcaption')).join('')).toContain('3 in all')
    // Values on the bars and dates on the axis: nothing needs hovering.
    const labels = await textsOf(html, 'svg text')
    expect(labels).toEqual(expect.arrayContaining(['0', '2', '1', 'Day (UTC)']))
    expect(labels.some((l) => /^\d{1,2} [A-Z][a-z]{2}$/.test(l))).toBe(true)
    // The same figures as a table: 30 days, 3 signups in all.
    const days = await textsOf(html, 'figure table tbody td')
    expect(days).toHaveLength(30)
    expect(days.reduce((n, d) => n + Number(d), 0)).toBe(3)
    expect(await textsOf(html, 'table.funnel tbody th')).toEqual([
      'Signed up',
      'Confirmed',
      'Lesson 1',
      'Lesson 2',
      'Lesson 3',
      'Lesson 4',
      'Lesson 5',
      'Completed',
    ])
    expect(await textsOf(html, 'table.funnel tbody td:nth-child(2)')).toEqual(['3', '2', '2', '2', '1', '1', '1', '1'])
    expect(await attrsOf(html, 'table.funnel progress', 'value')).toEqual([
      '100',
      '66.7',
      '66.7',
      '66.7',
      '33.3',
      '33.3',
      '33.3',
      '33.3',
    ])
    // Rates as percentages a person reads, not 0.6667.
    expect(html).toContain('Confirm rate: <strong>66.7%</strong>')
    expect(html).not.toContain('0.6667')
    // By source and campaign, per lesson, per broadcast: figures a marketer compares.
    expect(await textsOf(html, 'h2')).toEqual(
      expect.arrayContaining(['By source and campaign', 'Per lesson', 'Per broadcast']),
    )
    const bySource = await textsOf(html, 'tbody tr')
    expect(bySource).toEqual(expect.arrayContaining([expect.stringMatching(/^partner\s*\(none\)\s*1\s*100%\s*0$/)]))
  })

  it('finds subscribers by address and status', async () => {
    const html = await (await page('/admin/subscribers?q=dash-&status=pending', session)).text()
    expect(await textsOf(html, 'tbody tr td:first-child')).toEqual(['dash-c@example.com'])
  })

  it('reads each lesson as a subscriber gets it, with its text part and size', async () => {
    const html = await (await page('/admin/lessons', session)).text()
    expect(await textsOf(html, 'section h2')).toHaveLength(5)
    expect(await attrsOf(html, 'iframe', 'src')).toEqual([1, 2, 3, 4, 5].map((n) => `/admin/lessons/${n}/html`))
    expect((await textsOf(html, 'section p')).join(' ')).toMatch(/\d+\.\d KB of HTML/)
    const lesson = await (await page('/admin/lessons/2/html', session)).text()
    expect(lesson).toContain('What are Spine Exercises?')
    // Sample values, not raw placeholders, in the HTML and in the text part shown beside it.
    expect(lesson).toContain('Hi Anna,')
    expect(lesson).not.toMatch(/\{\{[a-z_]+\}\}/)
    expect(html).not.toMatch(/\{\{[a-z_]+\}\}/)
    expect((await textsOf(html, 'pre')).join('')).toContain('Hi Anna,')
    expect((await page('/admin/lessons/2/html')).status).toBe(303)
  })

  it('sees the dead-letter queue’s contents', async () => {
    await env.DB.prepare(
      'INSERT INTO dead_letters (queue, body, attempts, received_at) VALUES (\'spine-exercises-lessons-dlq\', \'{"course":"x"}\', 10, 0)',
    ).run()
    const html = await (await page('/admin/dead-letters', session)).text()
    expect(await textsOf(html, 'tbody td:first-child')).toEqual(['spine-exercises-lessons-dlq'])
  })
})
