import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { fillTemplate } from '../src/mail/fill'
import { consentText, get, outbox, publish, signup, subscriberByEmail, subscriberCount } from './helpers'
import type { AcceptedEmail, Faults } from './support/resend-server'

const build = inject('siteBuild')
const consent = consentText(build)
const resendUrl = inject('resendUrl')
/** The Worker as deployed with a Resend key, pointed at the local Resend-speaking server. */
const withResend: Env = { ...env, RESEND_API_KEY: 're_test_not_a_real_key', RESEND_BASE_URL: resendUrl }

const control = (path: string, body?: unknown) =>
  fetch(`${resendUrl}/__control/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })
const setFaults = (f: Faults) => control('faults', f)
const acceptedFor = async (to: string) =>
  ((await (await control('emails')).json()) as { emails: AcceptedEmail[] }).emails.filter((e) =>
    e.email.to.includes(to),
  )

beforeAll(async () => {
  await publish(build)
})
afterEach(async () => {
  await setFaults({})
})

describe('with RESEND_API_KEY set, confirmation emails go out through Resend', () => {
  it('sends one email with both parts, the unsubscribe headers and an idempotency key', async () => {
    const res = await signup(
      { email: 'via-resend@example.com', consent, name: 'Ola' },
      { json: true, bindings: withResend },
    )
    expect(res.status).toBe(202)
    const [sent, ...more] = await acceptedFor('via-resend@example.com')
    expect(more).toEqual([])
    expect(sent?.email).toMatchObject({
      from: build.settings.mailFrom,
      to: ['via-resend@example.com'],
      subject: 'Please confirm: The cure back pain program',
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      tags: [{ name: 'type', value: 'confirmation' }],
    })
    expect(sent?.email.headers?.['List-Unsubscribe']).toMatch(/^<http:\/\/localhost\/unsubscribe\/[\w.-]+>$/)
    expect(sent?.email.text).toContain('Hi Ola,')
    expect(sent?.email.html).toContain('Hi Ola,')
    expect(sent?.idempotencyKey).toMatch(/^confirm-/)
    expect((await outbox()).filter((m) => m.to === 'via-resend@example.com')).toEqual([])
  })

  it('does not show the local outbox when a key is set', async () => {
    expect((await get('/dev/outbox', {}, withResend)).status).toBe(404)
    expect((await get('/dev/outbox.json', {}, withResend)).status).toBe(404)
  })

  it.each([
    ['a 500', { rate500: 1 }],
    ['a 429', { rate429: 1 }],
    ['a dropped connection', { rateDrop: 1 }],
  ] as const)('answers 503 when Resend gives %s, and lets the reader try again at once', async (what, faults) => {
    const email = `retry-${what.replace(/\W+/g, '-')}@example.com`
    await setFaults(faults)
    const failed = await signup({ email, consent }, { json: true, bindings: withResend })
    expect(failed.status).toBe(503)
    expect(((await failed.json()) as { error: { message: string } }).error.message).toMatch(/could not send/)
    expect(await acceptedFor(email)).toEqual([])
    await setFaults({})
    expect((await signup({ email, consent }, { json: true, bindings: withResend })).status).toBe(202)
    expect(await acceptedFor(email)).toHaveLength(1)
  })
})

describe('a deployed Worker that is missing a secret', () => {
  it('refuses signups with 503 and stores nothing when RESEND_API_KEY is missing', async () => {
    const deployed: Env = { ...env, ENVIRONMENT: 'production', RESEND_API_KEY: undefined }
    const before = await subscriberCount()
    const res = await signup({ email: 'nokey@example.com', consent }, { json: true, bindings: deployed })
    expect(res.status).toBe(503)
    expect(await subscriberCount()).toBe(before)
    expect((await get('/dev/outbox.json', {}, deployed)).status).toBe(404)
  })

  it('refuses signups with 503 when SIGNING_KEY is missing', async () => {
    const res = await signup(
      { email: 'nosign@example.com', consent },
      { json: true, bindings: { ...withResend, SIGNING_KEY: undefined } },
    )
    expect(res.status).toBe(503)
    expect(await subscriberByEmail('nosign@example.com')).toBeNull()
  })
})

describe('with TURNSTILE_SECRET set', () => {
  const guarded: Env = {
    ...env,
    TURNSTILE_SECRET: 'turnstile-test-secret',
    TURNSTILE_VERIFY_URL: inject('turnstileUrl'),
  }

  it.each([
    ['no token', {}],
    ['a bad token', { 'cf-turnstile-response': 'bot' }],
  ])('refuses a signup with %s with 403, naming the field', async (_, extra) => {
    const res = await signup({ email: 'bot@example.com', consent, ...extra }, { json: true, bindings: guarded })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { fields: object } }).error.fields).toHaveProperty('cf-turnstile-response')
    expect(await subscriberByEmail('bot@example.com')).toBeNull()
  })

  it('takes a signup whose token passes', async () => {
    const res = await signup(
      { email: 'human@example.com', consent, 'cf-turnstile-response': 'pass' },
      { json: true, bindings: guarded },
    )
    expect(res.status).toBe(202)
  })
})

describe('what a subscriber typed, in an email', () => {
  it('never reaches a header with its line breaks, nor the HTML unescaped', () => {
    const template = { subject: 'Hello {{greeting}}', html: '<p>{{greeting}}</p>', text: '{{greeting}}' }
    const evil = 'Anna\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script>'
    const filled = fillTemplate(template, { greeting: evil })
    expect(filled.subject).not.toMatch(/[\r\n]/)
    expect(filled.html).toBe('<p>Anna\r\nBcc: victim@example.com\r\n\r\n&lt;script&gt;alert(1)&lt;/script&gt;</p>')
    expect(filled.text).toContain('<script>') // the text part is not HTML: shown as typed
  })

  it('refuses to send a template with a placeholder nobody filled', () => {
    expect(() => fillTemplate({ subject: 's', html: '{{confirm_url}}', text: '' }, {})).toThrow('{{confirm_url}}')
  })
})
