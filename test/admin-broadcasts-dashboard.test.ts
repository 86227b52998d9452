import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { adminSession, attrsOf, get, lessonsDrained, mailsTo, makeSubscriber, publish, textsOf } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const LETTER = '/letters/welcome'
let cookie = ''

const page = (path: string) => get(path, { redirect: 'manual', headers: { Cookie: cookie } }, admin)
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
  await publish(inject('secondEssayBuild'))
  for (const n of [1, 2, 3]) await makeSubscriber({ email: `dash-member${n}@example.com`, newsletter: 'active' })
  cookie = await adminSession(admin)
})

/** The id of the letter's draft, from the list page's link. */
async function draftId() {
  const html = await (await page('/admin/broadcasts')).text()
  const links = await attrsOf(html, 'a[href^="/admin/broadcasts/bc_"]', 'href')
  const texts = await textsOf(html, 'a[href^="/admin/broadcasts/bc_"]')
  const i = texts.indexOf('What the new essays will cover')
  return (links[i] ?? '').split('/').pop() as string
}

describe('broadcasts in the dashboard', () => {
  it('wants a session', async () => {
    const res = await get('/admin/broadcasts', { redirect: 'manual' }, admin)
    expect(res.status).toBe(303)
  })

  it('lists the drafts, and shows one with its email in a sandboxed frame filled with sample values', async () => {
    const id = await draftId()
    expect(id).toMatch(/^bc_/)
    const html = await (await page(`/admin/broadcasts/${id}`)).text()
    expect(await attrsOf(html, 'iframe', 'sandbox')).toEqual([''])
    expect(await attrsOf(html, 'iframe', 'src')).toEqual([`/admin/broadcasts/${id}/html`])
    const preview = await page(`/admin/broadcasts/${id}/html`)
    expect(preview.headers.get('content-security-policy')).toContain("default-src 'none'")
    const body = await preview.text()
    expect(body).toContain('Hi Test,')
    expect(body).not.toMatch(/\{\{|\}\}/)
  })

  it('sends a test to the address typed, and names a bad one', async () => {
    const id = await draftId()
    const ok = await post(`/admin/broadcasts/${id}/test`, { to: 'me@example.com' })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('Sent “[Test] What the new essays will cover” to me@example.com.')
    expect(await mailsTo('me@example.com')).toHaveLength(1)
    const bad = await post(`/admin/broadcasts/${id}/test`, { to: 'me at example' })
    expect(bad.status).toBe(400)
    expect(await textsOf(await bad.text(), '.field-error')).toEqual(['must be a valid email address'])
  })

  it('refuses a schedule without its time, naming the field, and schedules nothing', async () => {
    const id = await draftId()
    const res = await post('/admin/broadcasts', { path: LETTER, send: 'at', at: '' })
    expect(res.status).toBe(400)
    expect(await textsOf(await res.text(), '.field-error')).toEqual(['choose a time (UTC) for "At this time"'])
    expect(await draftId()).toBe(id)
  })

  it('schedules it now from the form, and shows its progress to the end', async () => {
    const res = await post('/admin/broadcasts', { path: LETTER, send: 'now', 'segment.course': '' })
    expect(res.status).toBe(303)
    const location = res.headers.get('location') ?? ''
    expect(location).toMatch(/^\/admin\/broadcasts\/bc_/)
    await lessonsDrained()
    const html = await (await page(location)).text()
    expect(html).toContain('3 recipients · 3 sent · 0 skipped · 0 failed · 0 to go')
  })

  it('cancels a scheduled one with its button', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16)
    const res = await post('/admin/broadcasts', { path: LETTER, send: 'at', at })
    expect(res.status).toBe(303)
    const location = res.headers.get('location') ?? ''
    const cancelled = await post(`${location}/cancel`, {})
    expect(cancelled.status).toBe(303)
    const html = await (await page(location)).text()
    expect(html).toContain('Cancelled')
    expect(html).toContain('3 skipped (3 cancelled)')
    // A second cancel is refused on the page, with the reason.
    const again = await post(`${location}/cancel`, {})
    expect(again.status).toBe(409)
  })
})
