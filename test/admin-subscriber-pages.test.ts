import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { adminSession, attrsOf, get, makeSubscriber, publish, subscriberByEmail, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const T0 = Date.parse('2026-11-01T00:00:00Z')
let cookie = ''

const page = (path: string, c = cookie) => get(path, { redirect: 'manual', headers: { Cookie: c } }, admin)
const post = (path: string, fields: Record<string, string>) =>
  get(
    path,
    {
      method: 'POST',
      redirect: 'manual',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    },
    admin,
  )

beforeAll(async () => {
  await publish(inject('siteBuild'))
  // 60 subscribers a minute apart: the newest first, 50 a page.
  for (let i = 0; i < 60; i++)
    await makeSubscriber({
      email: `list${String(i).padStart(2, '0')}@example.com`,
      created_at: T0 + i * 60_000,
      status: i % 4 === 0 ? 'pending' : 'active',
      source: i % 3 === 0 ? 'partner' : 'essay-end',
    })
  await makeSubscriber({
    email: 'evidence@example.com',
    created_at: T0 - 86_400_000,
    consent_text: 'Yes, email me the course.',
    consent_ip: '198.51.100.23',
    consent_user_agent: 'Evidence/1.0',
    newsletter: 'active',
    newsletter_consent_text: 'Also new essays.',
    newsletter_consent_at: T0,
  })
  cookie = await adminSession(admin)
})

describe('the subscribers page', () => {
  it('pages through the list 50 at a time, newest first, with nobody twice or left out', async () => {
    const first = await (await page('/admin/subscribers?q=list')).text()
    const one = await textsOf(first, 'tbody td:first-child')
    expect(one).toHaveLength(50)
    expect(one[0]).toBe('list59@example.com')
    // Attribute values as the HTML has them: & written &amp;.
    const next = (await attrsOf(first, 'nav[aria-label="Pages"] a', 'href'))[0]?.replace(/&amp;/g, '&')
    expect(next).toMatch(/^\/admin\/subscribers\?q=list&cursor=/)
    const second = await (await page(next ?? '')).text()
    const two = await textsOf(second, 'tbody td:first-child')
    expect(two).toHaveLength(10)
    expect(new Set([...one, ...two]).size).toBe(60)
    expect(await textsOf(second, 'nav[aria-label="Pages"] a')).toEqual(['First page'])
  })

  it('filters by status and source with selects, and links each address to its page', async () => {
    const html = await (await page('/admin/subscribers?status=pending&source=partner')).text()
    expect(await attrsOf(html, 'select#status option[selected]', 'value')).toEqual(['pending'])
    expect(await attrsOf(html, 'select#source option[selected]', 'value')).toEqual(['partner'])
    expect(await textsOf(html, 'label[for=status]')).toEqual(['Status'])
    // i % 4 == 0 and i % 3 == 0: 0, 12, 24, 36, 48.
    expect(await textsOf(html, 'tbody td:first-child')).toHaveLength(5)
    expect((await attrsOf(html, 'tbody a', 'href')).every((h) => /^\/admin\/subscribers\/[\w-]+$/.test(h))).toBe(true)
  })

  it('downloads the same filter as CSV from its button', async () => {
    const html = await (await page('/admin/subscribers?status=pending&source=partner')).text()
    const href = (await attrsOf(html, 'a[download]', 'href'))[0]?.replace(/&amp;/g, '&')
    expect(href).toBe('/admin/subscribers.csv?status=pending&source=partner')
    const res = await page(href ?? '')
    expect(res.headers.get('content-type')).toContain('text/csv')
    const lines = (await res.text()).trim().split('\r\n')
    expect(lines).toHaveLength(6)
    expect(lines.slice(1).every((l) => l.includes(',pending,') && l.includes(',partner,'))).toBe(true)
  })

  it('refuses a status that is not one, and a forged page, naming them', async () => {
    const bad = await page('/admin/subscribers?status=vip')
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('status must be one of')
    const forged = await page('/admin/subscribers?cursor=not-a-cursor')
    expect(forged.status).toBe(400)
    expect((await page('/admin/subscribers.csv?status=vip')).status).toBe(400)
  })

  it('is behind the session, the CSV and every subscriber page too', async () => {
    const id = (await subscriberByEmail('evidence@example.com'))?.id
    for (const path of [
      '/admin/subscribers',
      '/admin/subscribers.csv',
      `/admin/subscribers/${id}`,
      `/admin/subscribers/${id}/export.json`,
    ])
      expect((await page(path, '')).status, path).toBe(303)
  })
})

describe("one subscriber's page", () => {
  it('shows the consent evidence of each topic and the history', async () => {
    const id = (await subscriberByEmail('evidence@example.com'))?.id
    const html = await (await page(`/admin/subscribers/${id}`)).text()
    expect(await textsOf(html, 'h1')).toEqual(['evidence@example.com'])
    const evidence = await textsOf(html, 'dd')
    expect(evidence).toEqual(
      expect.arrayContaining(['Yes, email me the course.', '198.51.100.23', 'Evidence/1.0', 'Also new essays.']),
    )
    expect(await textsOf(html, 'h2')).toEqual(
      expect.arrayContaining(['Consent evidence', 'History', 'Lessons sent', 'Their data (GDPR)']),
    )
  })

  it('downloads everything held about the address as JSON', async () => {
    const id = (await subscriberByEmail('evidence@example.com'))?.id
    const res = await page(`/admin/subscribers/${id}/export.json`)
    expect(res.headers.get('content-disposition')).toContain('attachment')
    const body = (await res.json()) as { email: string; subscriptions: unknown[] }
    expect(body.email).toBe('evidence@example.com')
    expect(body.subscriptions).toHaveLength(1)
  })

  it('erases only after the address is typed again', async () => {
    const id = (await subscriberByEmail('evidence@example.com'))?.id
    const ask = await (await page(`/admin/subscribers/${id}/erase`)).text()
    expect(await textsOf(ask, 'label')).toEqual(['Type the address to confirm'])
    const wrong = await post(`/admin/subscribers/${id}/erase`, { confirm: 'someone@example.com' })
    expect(wrong.status).toBe(400)
    expect(await subscriberByEmail('evidence@example.com')).not.toBeNull()
    const right = await post(`/admin/subscribers/${id}/erase`, { confirm: 'Evidence@example.com' })
    expect(right.status).toBe(303)
    expect(right.headers.get('location')).toBe('/admin/subscribers?erased=1')
    expect(await subscriberByEmail('evidence@example.com')).toBeNull()
    expect((await page(`/admin/subscribers/${id}`)).status).toBe(404)
  })
})
