import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import {
  attrsOf,
  consentText,
  get,
  linkIn,
  mailsTo,
  newsletterConsentText,
  publish,
  signup,
  subscriberByEmail,
  subscriberCount,
  textsOf,
} from './helpers'

const build = inject('siteBuild')
const consent = consentText(build)
const newsletterConsent = newsletterConsentText(build)

beforeAll(async () => {
  await publish(build)
})

const fields = (email: string, extra: Record<string, string> = {}) => ({ email, consent, ...extra })

describe('a reader joining the program from the program page', () => {
  it('signs up with the form, confirms by email, and is active with lesson 1 due', async () => {
    const res = await signup(fields('Anna.Reader@Example.com', { name: 'Anna', source: 'program-page' }), {
      headers: { Referer: 'http://localhost/cure-back-pain-program?utm_source=newsletter&utm_campaign=spring' },
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/subscribe/check-your-inbox')
    const landing = await get('/subscribe/check-your-inbox')
    expect(await textsOf(await landing.text(), 'h1')).toEqual(['Check your inbox'])

    const mails = await mailsTo('Anna.Reader@Example.com')
    expect(mails).toHaveLength(1)
    const mail = mails[0] as (typeof mails)[number]
    expect(mail.subject).toBe('Please confirm: The cure back pain program')
    expect(mail.text).toContain('Hi Anna,')
    expect(mail.text).toContain('Springfield, IL')
    expect(mail.html).toContain('Hi Anna,')
    expect(mail.headers['List-Unsubscribe']).toMatch(/^<http:\/\/localhost\/unsubscribe\/[\w.-]+>$/)
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    expect(mail.html).toContain(linkIn(mail, 'unsubscribe'))

    const confirmPath = linkIn(mail, 'confirm')
    const prompt = await get(confirmPath)
    expect(prompt.status).toBe(200)
    expect(await textsOf(await prompt.text(), 'main form button')).toEqual(['Yes, start the course'])
    expect((await subscriberByEmail('anna.reader@example.com'))?.status).toBe('pending')

    const before = Date.now()
    const confirmed = await get(confirmPath, { method: 'POST' })
    expect(confirmed.status).toBe(200)
    expect(await textsOf(await confirmed.text(), 'h1')).toEqual(['You are in'])
    const row = await subscriberByEmail('anna.reader@example.com')
    expect(row?.status).toBe('active')
    expect(row?.lesson_position).toBe(0)
    expect(row?.next_send_at).toBeGreaterThanOrEqual(before)
  })

  it('records the consent evidence and where the signup came from', async () => {
    const before = Date.now()
    await signup(fields('evidence@example.com', { source: 'program-page', timezone: 'Europe/Berlin' }), {
      ip: '203.0.113.7',
      headers: {
        'User-Agent': 'Mozilla/5.0 (test browser)',
        Referer: 'http://localhost/cure-back-pain-program?utm_source=newsletter&utm_medium=email&utm_campaign=spring',
      },
    })
    const row = await subscriberByEmail('evidence@example.com')
    expect(row).toMatchObject({
      status: 'pending',
      course: 'cure-back-pain-program',
      timezone: 'Europe/Berlin',
      consent_text: consent,
      consent_ip: '203.0.113.7',
      consent_user_agent: 'Mozilla/5.0 (test browser)',
      source: 'program-page',
      landing_path: '/cure-back-pain-program',
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'spring',
    })
    expect(row?.consent_at).toBeGreaterThanOrEqual(before)
  })

  it('takes the time zone from the request when the form could not send one, else the site default', async () => {
    await signup(fields('edge-zone@example.com'), { cf: { timezone: 'Asia/Tokyo' } })
    expect((await subscriberByEmail('edge-zone@example.com'))?.timezone).toBe('Asia/Tokyo')
    await signup(fields('no-zone@example.com'))
    expect((await subscriberByEmail('no-zone@example.com'))?.timezone).toBe(build.settings.defaultTimezone)
  })

  it('leaves at once with the one-click unsubscribe, and gets no further email', async () => {
    await signup(fields('leaver@example.com'))
    const [mail] = await mailsTo('leaver@example.com')
    await get(linkIn(mail as { text: string }, 'confirm'), { method: 'POST' })
    // What a mail client does with List-Unsubscribe-Post (RFC 8058): a POST with this body, no page.
    const res = await get(linkIn(mail as { text: string }, 'unsubscribe'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    })
    expect(res.status).toBe(200)
    const row = await subscriberByEmail('leaver@example.com')
    expect(row?.status).toBe('unsubscribed')
    expect(row?.next_send_at).toBeNull()
    const events = await env.DB.prepare('SELECT type, data FROM subscriber_events WHERE subscriber_id = ? ORDER BY id')
      .bind(row?.id)
      .all<{ type: string; data: string }>()
    expect(events.results.map((e) => e.type)).toEqual(['signed_up', 'confirmation_sent', 'confirmed', 'unsubscribed'])
    // The confirmation's link: nothing had started, so it leaves everything the signup asked for.
    expect(JSON.parse(events.results[3]?.data ?? '{}')).toEqual({ one_click: true, topic: 'all' })
    expect(await mailsTo('leaver@example.com')).toHaveLength(1)
  })
})

describe('the same answer for every address', () => {
  const answer = async (email: string) => {
    const res = await signup(fields(email), { json: true })
    return { status: res.status, body: await res.json() }
  }

  it('answers 202 with the same body whether the address is new, pending, active or unsubscribed', async () => {
    const fresh = await answer('same-1@example.com')
    expect(fresh).toEqual({
      status: 202,
      body: { status: 'accepted', message: 'Check your inbox to confirm your subscription.' },
    })
    expect(await answer('same-1@example.com')).toEqual(fresh) // pending
    const [mail] = await mailsTo('same-1@example.com')
    await get(linkIn(mail as { text: string }, 'confirm'), { method: 'POST' })
    expect(await answer('SAME-1@example.com ')).toEqual(fresh) // active, other case and spacing
    await get(linkIn(mail as { text: string }, 'unsubscribe'), { method: 'POST' })
    expect(await answer('same-1@example.com')).toEqual(fresh) // unsubscribed
  })

  it('sends a pending address at most one confirmation per 10 minutes', async () => {
    await answer('pending@example.com')
    await answer('pending@example.com')
    expect(await mailsTo('pending@example.com')).toHaveLength(1)
    // Eleven minutes later (moved back in the database rather than waiting).
    await env.DB.prepare('UPDATE subscribers SET confirmation_sent_at = confirmation_sent_at - 660000 WHERE email = ?')
      .bind('pending@example.com')
      .run()
    await answer('pending@example.com')
    expect(await mailsTo('pending@example.com', 2)).toHaveLength(2)
  })

  it('starts an unsubscribed address over as pending, with fresh consent and a new confirmation', async () => {
    await answer('again@example.com')
    const [first] = await mailsTo('again@example.com')
    await get(linkIn(first as { text: string }, 'confirm'), { method: 'POST' })
    await get(linkIn(first as { text: string }, 'unsubscribe'), { method: 'POST' })
    const before = await subscriberByEmail('again@example.com')
    await signup(fields('again@example.com', { source: 'partner-site' }), { json: true })
    const after = await subscriberByEmail('again@example.com')
    expect(after?.id).toBe(before?.id)
    expect(after).toMatchObject({ status: 'pending', source: 'partner-site', confirmed_at: null, lesson_position: 0 })
    expect(after?.consent_at as number).toBeGreaterThanOrEqual(before?.consent_at as number)
    expect(await mailsTo('again@example.com', 2)).toHaveLength(2)
  })

  it('makes one subscriber and one email of 50 concurrent signups of one address', async () => {
    const before = await subscriberCount()
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => signup(fields('rush@example.com'), { json: true })),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202))
    expect(await subscriberCount()).toBe(before + 1)
    expect(await mailsTo('rush@example.com')).toHaveLength(1)
  })
})

describe('the signup forms on the site', () => {
  it('are on the program page and at the end of the essay, with both consent wordings visible', async () => {
    for (const path of ['/cure-back-pain-program', '/back-pain/back-exercises/spine-exercises']) {
      const html = await (await get(path)).text()
      expect(await textsOf(html, 'form.signup .consent label'), path).toEqual([consent, newsletterConsent])
      // The course's box is required; the newsletter's is optional and unticked.
      expect(await attrsOf(html, 'input[name=newsletter]', 'type'), path).toEqual(['checkbox'])
      expect(await attrsOf(html, 'input[name=newsletter]', 'checked'), path).toEqual([])
      expect(await attrsOf(html, 'input[name=newsletter]', 'required'), path).toEqual([])
      const csp = (await get(path)).headers.get('content-security-policy') ?? ''
      expect(csp, path).toContain("script-src 'self'")
      expect(await attrsOf(html, 'script[src]', 'src'), path).toEqual(['/assets/signup.js'])
    }
  })
})
