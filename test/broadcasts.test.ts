import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { suppressionHash } from '../src/subscribers/suppression'
import { get, lessonsDrained, linkIn, mailsTo, makeSubscriber, outbox, publish, subscriberByEmail } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const build = inject('secondEssayBuild')
const ESSAY = '/back-pain/posture/sitting-all-day'
const LETTER = '/letters/welcome'

/** A call to the admin API with the token, as a marketer's tool makes it. */
const api = (path: string, method = 'GET', body?: unknown) =>
  get(
    path,
    {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    },
    admin,
  )

interface Presented {
  id: string
  path: string
  status: string
  recipients: number
  sent: number
  skipped: number
  failed: number
  skipped_because: Record<string, number>
}

const member = (email: string, extra: Record<string, string | number | null> = {}) =>
  makeSubscriber({ email, newsletter: 'active', newsletter_joined_at: 1_700_000_000_000, ...extra })

beforeAll(async () => {
  await publish(build)
  await member('reader1@example.com', { first_name: '<b>Ann</b> & Co', source: 'essay-end' })
  await member('reader2@example.com', { status: 'completed', source: 'partner', utm_campaign: 'spring' })
  // Left the course, kept the newsletter.
  await member('reader3@example.com', { status: 'unsubscribed' })
  await makeSubscriber({ email: 'course-only@example.com' })
  await makeSubscriber({ email: 'left@example.com', newsletter: 'left' })
  await member('bounced@example.com', { status: 'bounced' })
  await member('pending@example.com', { status: 'pending', newsletter: 'pending' })
})

describe('drafts', () => {
  it('lists every published essay and letter never sent as a draft, and not the course essay', async () => {
    const res = await api('/api/admin/broadcasts')
    expect(res.status).toBe(200)
    const { broadcasts } = (await res.json()) as { broadcasts: Presented[] }
    const drafts = broadcasts.filter((b) => b.status === 'draft').map((b) => b.path)
    expect(drafts.sort()).toEqual([ESSAY, LETTER])
    // Listing again makes no second draft.
    const again = (await (await api('/api/admin/broadcasts')).json()) as { broadcasts: Presented[] }
    expect(again.broadcasts).toHaveLength(broadcasts.length)
  })
})

describe('a broadcast sent now', () => {
  let sent: Presented

  it('answers 201 with its id, status and recipients: the active members, never anyone else', async () => {
    const res = await api('/api/admin/broadcasts', 'POST', { path: ESSAY, send: 'now' })
    expect(res.status).toBe(201)
    sent = (await res.json()) as Presented
    expect(sent).toMatchObject({ path: ESSAY, status: 'sending', recipients: 3 })
    expect(sent.id).toMatch(/^bc_[0-9a-f]{20}$/)
    await lessonsDrained()
    const now = (await (await api(`/api/admin/broadcasts/${sent.id}`)).json()) as Presented
    expect(now).toMatchObject({ status: 'sent', recipients: 3, sent: 3, skipped: 0, failed: 0 })
    // The draft of this path became the broadcast: no draft of it is left.
    const list = (await (await api('/api/admin/broadcasts')).json()) as { broadcasts: Presented[] }
    expect(list.broadcasts.filter((b) => b.path === ESSAY).map((b) => b.status)).toEqual(['sent'])
  })

  it('reaches each member once, and nobody else', async () => {
    const mails = (await outbox()).filter((m) => m.subject === 'Sitting All Day')
    expect(mails.map((m) => m.to).sort()).toEqual(['reader1@example.com', 'reader2@example.com', 'reader3@example.com'])
  })

  it('is an email a reader can trust: its list, one-click unsubscribe, text part, escaped values, tagged links', async () => {
    const [mail] = (await mailsTo('reader1@example.com')).filter((m) => m.subject === 'Sitting All Day')
    if (!mail) throw new Error('no broadcast for reader1')
    const host = new URL(build.settings.baseUrl).hostname
    expect(mail.headers['List-Id']).toBe(`"${build.settings.newsletter?.title}" <newsletter.${host}>`)
    expect(mail.headers['List-Unsubscribe']).toMatch(/^<http:\/\/localhost\/unsubscribe\/[^>]+>$/)
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    expect(mail.html).not.toMatch(/\{\{|\}\}/)
    expect(mail.text).not.toMatch(/\{\{|\}\}/)
    expect(mail.html).toContain('Hi &lt;b&gt;Ann&lt;/b&gt; &amp; Co,')
    expect(mail.text).toContain('Hi <b>Ann</b> & Co,')
    expect(mail.text).toContain('Opening paragraph of the fixture essay about sitting.')
    // "Read the whole essay" goes through /r/ on the site, which counts the click and leads to the
    // essay tagged with this broadcast as its campaign.
    const read = /href="([^"]+)"[^>]*>\s*Read the whole essay/.exec(mail.html)?.[1]?.replaceAll('&amp;', '&') ?? ''
    expect(read.startsWith('http://localhost/r/')).toBe(true)
    const to = await get(new URL(read).pathname, { redirect: 'manual' })
    expect(to.status).toBe(302)
    expect(to.headers.get('location')).toBe(
      `${ESSAY}?utm_source=${build.settings.utmSource}&utm_medium=email&utm_campaign=${sent.id}&utm_content=read-essay`,
    )
    expect(Buffer.byteLength(mail.html)).toBeLessThanOrEqual(40 * 1024)
  })

  it('whose one-click leaves the newsletter only: the course goes on', async () => {
    const [mail] = (await mailsTo('reader1@example.com')).filter((m) => m.subject === 'Sitting All Day')
    const res = await get(linkIn(mail as { text: string }, 'unsubscribe'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    })
    expect(res.status).toBe(200)
    expect(await subscriberByEmail('reader1@example.com')).toMatchObject({ status: 'active', newsletter: 'left' })
  })

  it('sent again makes a new broadcast, without the reader who left', async () => {
    const res = await api('/api/admin/broadcasts', 'POST', { path: ESSAY, send: 'now' })
    const again = (await res.json()) as Presented
    expect(again.id).not.toBe(sent.id)
    expect(again.recipients).toBe(2)
    await lessonsDrained()
  })
})

describe('segments', () => {
  it.each([
    [{ source: 'partner' }, 1],
    [{ utm_campaign: 'spring' }, 1],
    [{ course: 'completed' }, 1],
    [{ course: 'none' }, 1],
    [{ course: 'in-progress' }, 0],
    [{ signed_up_from: '2023-11-14', signed_up_to: '2023-11-14' }, 2],
    [{ signed_up_from: '2030-01-01' }, 0],
  ])('%o narrows the recipients to %i', async (segment, count) => {
    const at = new Date(Date.now() + 3_600_000).toISOString()
    const res = await api('/api/admin/broadcasts', 'POST', { path: LETTER, send: at, segment })
    expect(res.status).toBe(201)
    const b = (await res.json()) as Presented
    expect(b.recipients).toBe(count)
    await api(`/api/admin/broadcasts/${b.id}/cancel`, 'POST')
  })
})

describe('scheduled, cancelled, resumed', () => {
  it('a broadcast at a later time waits, and a cancel stops it before anyone gets it', async () => {
    const at = new Date(Date.now() + 2 * 3_600_000).toISOString().replace('Z', '+00:00')
    const created = (await (await api('/api/admin/broadcasts', 'POST', { path: LETTER, send: at })).json()) as Presented
    expect(created.status).toBe('scheduled')
    const res = await api(`/api/admin/broadcasts/${created.id}/cancel`, 'POST')
    expect(res.status).toBe(200)
    expect((await res.json()) as Presented).toMatchObject({
      status: 'cancelled',
      sent: 0,
      skipped: created.recipients,
      skipped_because: { cancelled: created.recipients },
    })
    // Cancelling twice, resuming what is not paused: 409, naming the id.
    for (const action of ['cancel', 'resume']) {
      const twice = await api(`/api/admin/broadcasts/${created.id}/${action}`, 'POST')
      expect(twice.status).toBe(409)
      expect(((await twice.json()) as { error: { fields: object } }).error.fields).toHaveProperty('id')
    }
  })
})

describe('a test send', () => {
  it('sends it as a reader gets it, marked [Test], to one address', async () => {
    const { broadcasts } = (await (await api('/api/admin/broadcasts')).json()) as { broadcasts: Presented[] }
    const draft = broadcasts.find((b) => b.path === LETTER)
    if (!draft) throw new Error('no broadcast of the letter')
    const res = await api(`/api/admin/broadcasts/${draft.id}/test`, 'POST', { to: 'marketer@example.com' })
    expect(res.status).toBe(202)
    expect(((await res.json()) as { subject: string }).subject).toBe('[Test] What the new essays will cover')
    const [mail] = await mailsTo('marketer@example.com')
    expect(mail?.text).toContain('Hi Test,')
    expect(mail?.headers['List-Id']).toContain('newsletter.')
    // A test send changes no figure.
    const after = (await (await api(`/api/admin/broadcasts/${draft.id}`)).json()) as Presented
    expect(after).toMatchObject({ status: draft.status, sent: draft.sent })
  })
})

describe('bad input on every broadcast endpoint', () => {
  const fieldsOf = async (res: Response) => {
    const body = (await res.json()) as { error: { status: number; fields: Record<string, string> } }
    return Object.keys(body.error.fields)
  }

  it.each([
    [{ send: 'now' }, 'path'],
    [{ path: ESSAY }, 'send'],
    [{ path: '/not/published', send: 'now' }, 'path'],
    [{ path: '/back-pain/back-exercises/spine-exercises', send: 'now' }, 'path'],
    [{ path: ESSAY, send: 'tomorrow' }, 'send'],
    [{ path: ESSAY, send: '2026-12-24T08:00:00' }, 'send'],
    [{ path: ESSAY, send: '2020-01-01T08:00:00Z' }, 'send'],
    [{ path: ESSAY, send: 'now', segment: { colour: 'blue' } }, 'segment.colour'],
    [{ path: ESSAY, send: 'now', segment: { course: 'half' } }, 'segment.course'],
    [{ path: ESSAY, send: 'now', segment: { signed_up_from: 'last week' } }, 'segment.signed_up_from'],
    [
      { path: ESSAY, send: 'now', segment: { signed_up_from: '2026-12-02', signed_up_to: '2026-12-01' } },
      'segment.signed_up_to',
    ],
    [{ path: ESSAY, send: 'now', segment: 'everyone' }, 'segment'],
    [{ path: ESSAY, send: 'now', extra: 1 }, 'extra'],
    [{ path: 42, send: 'now' }, 'path'],
  ])('POST /api/admin/broadcasts %o: 400 naming %s, nothing scheduled', async (body, field) => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM broadcasts WHERE status <> 'draft'").first<{
      n: number
    }>()
    const res = await api('/api/admin/broadcasts', 'POST', body)
    expect(res.status).toBe(400)
    expect(await fieldsOf(res)).toEqual([field])
    const after = await env.DB.prepare("SELECT count(*) AS n FROM broadcasts WHERE status <> 'draft'").first<{
      n: number
    }>()
    expect(after?.n).toBe(before?.n)
  })

  it('refuses a body that is not JSON', async () => {
    const res = await api('/api/admin/broadcasts', 'POST', '{"path":')
    expect(res.status).toBe(400)
  })

  it.each([
    ['GET', ''],
    ['POST', '/cancel'],
    ['POST', '/resume'],
    ['POST', '/test'],
  ])('%s /api/admin/broadcasts/:id%s: 400 for a malformed id, 404 for an unknown one', async (method, tail) => {
    const body = tail === '/test' ? { to: 'x@example.com' } : undefined
    const malformed = await api(`/api/admin/broadcasts/nope${tail}`, method, body)
    expect(malformed.status).toBe(400)
    expect(await fieldsOf(malformed)).toEqual(['id'])
    const unknown = await api(`/api/admin/broadcasts/bc_00000000000000000000${tail}`, method, body)
    expect(unknown.status).toBe(404)
  })

  it('a test send names a bad address, and refuses a suppressed one', async () => {
    const { broadcasts } = (await (await api('/api/admin/broadcasts')).json()) as { broadcasts: Presented[] }
    const id = broadcasts[0]?.id
    const bad = await api(`/api/admin/broadcasts/${id}/test`, 'POST', { to: 'not an address' })
    expect(bad.status).toBe(400)
    expect(await fieldsOf(bad)).toEqual(['to'])
    await env.DB.prepare("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'complained', 0)")
      .bind(await suppressionHash('gone@example.com'))
      .run()
    const suppressed = await api(`/api/admin/broadcasts/${id}/test`, 'POST', { to: 'gone@example.com' })
    expect(suppressed.status).toBe(409)
  })

  it('every route wants the admin token', async () => {
    for (const [method, path] of [
      ['GET', '/api/admin/broadcasts'],
      ['POST', '/api/admin/broadcasts'],
      ['GET', '/api/admin/broadcasts/bc_00000000000000000000'],
      ['POST', '/api/admin/broadcasts/bc_00000000000000000000/cancel'],
    ] as const) {
      const res = await get(path, { method }, admin)
      expect(res.status, `${method} ${path}`).toBe(401)
    }
  })
})
