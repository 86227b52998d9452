import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../src/index'
import { fillTemplate } from '../src/mail/fill'
import { MailerError } from '../src/mail/mailer'
import { resendMailer } from '../src/mail/resend'
import { retryDelay } from '../src/mail/retry'
import { consumeQueue } from '../src/queues'
import { siteContent } from '../src/site/content'
import { signUp } from '../src/subscribers/lifecycle'
import type { ConfirmationJob } from '../src/subscribers/signup'
import { suppressionHash } from '../src/subscribers/suppression'
import { consentText, get, mailsTo, publish, signup, subscriberByEmail, subscriberCount } from './helpers'
import { resendControl } from './support/resend-control'

const build = inject('siteBuild')
const consent = consentText(build)
const resendUrl = inject('resendUrl')
/** The Worker as deployed with a Resend key, pointed at the local Resend-speaking server. */
const withResend: Env = { ...env, RESEND_API_KEY: 're_test_not_a_real_key', RESEND_BASE_URL: resendUrl }

const { setFaults, acceptedFor } = resendControl(resendUrl)

beforeAll(async () => {
  await publish(build)
})
afterEach(async () => {
  await setFaults({})
})

/** A pending subscriber with a fresh confirmation claim, and the queue message for it. */
async function claimed(email: string) {
  const now = Date.now()
  const claim = await signUp(
    { db: env.DB, webhooks: false },
    { email, firstName: 'Ola', course: 'cure-back-pain-program', timezone: 'UTC', utm: {}, consent: { text: consent } },
    now,
    now - 600_000,
    await suppressionHash(email),
  )
  const subscriber = claim.changed[0]
  if (!subscriber) throw new Error(`${email} was not claimed`)
  const job: ConfirmationJob = { kind: 'confirmation', subscriberId: subscriber.id, round: 1, claimedAt: now }
  return { job, message: (attempts = 1) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts, body: job }) }
}

/** Runs the MAIL queue's consumer on one batch, as the runtime would, with the Resend key set. */
async function consume(
  messages: ReturnType<Awaited<ReturnType<typeof claimed>>['message']>[],
  bindings: Env = withResend,
) {
  const batch = createMessageBatch<ConfirmationJob>('spine-exercises-mail', messages)
  const ctx = createExecutionContext()
  await consumeQueue(batch, bindings, siteContent({ manifestTtlMs: 0, blobCacheBytes: 1 << 20 }), Date.now)
  return getQueueResult(batch, ctx)
}

describe('with RESEND_API_KEY set, confirmation emails go out through Resend', () => {
  it('sends one email with both parts, the unsubscribe headers and an idempotency key', async () => {
    const { message } = await claimed('via-resend@example.com')
    expect((await consume([message()])).explicitAcks).toHaveLength(1)
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
  })

  it('does not show the local outbox when a key is set', async () => {
    expect((await get('/dev/outbox', {}, withResend)).status).toBe(404)
    expect((await get('/dev/outbox.json', {}, withResend)).status).toBe(404)
  })

  it.each([
    ['a 500', { rate500: 1 }],
    ['a 429', { rate429: 1 }],
    ['a lost answer after Resend took the email', { rateDrop: 1, dropAfterAccept: true }],
  ] as const)('retries later when Resend gives %s, and the email goes out exactly once', async (what, faults) => {
    const email = `retry-${what.replace(/\W+/g, '-')}@example.com`
    const { message } = await claimed(email)
    await setFaults(faults)
    const first = await consume([message(1)])
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String) }])
    expect(first.explicitAcks).toEqual([])
    await setFaults({})
    const second = await consume([message(2)])
    expect(second.explicitAcks).toHaveLength(1)
    expect(await acceptedFor(email)).toHaveLength(1)
  })

  it('sends nothing for a claim that went stale: the subscriber confirmed in the meantime', async () => {
    const { job, message } = await claimed('stale@example.com')
    await env.DB.prepare("UPDATE subscribers SET status = 'active' WHERE id = ?").bind(job.subscriberId).run()
    expect((await consume([message()])).explicitAcks).toHaveLength(1)
    expect(await acceptedFor('stale@example.com')).toEqual([])
  })

  it('retries the message when the Worker cannot send mail at all', async () => {
    const { message } = await claimed('noconfig@example.com')
    const result = await consume([message()], { ...env, ENVIRONMENT: 'production', RESEND_API_KEY: undefined })
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String) }])
    expect(result.explicitAcks).toEqual([])
  })

  it('waits as long as Resend asks on a 429, and backs off exponentially otherwise', async () => {
    await setFaults({ rate429: 1, retryAfterSeconds: 7 })
    const [outcome] = await resendMailer('re_test_not_a_real_key', resendUrl).sendEach([
      {
        email: { from: 'a@example.com', to: 'b@example.com', subject: 's', html: 'h', text: 't', headers: {} },
        idempotencyKey: 'k-429',
      },
    ])
    const err = outcome?.ok ? undefined : outcome?.error
    expect(err).toBeInstanceOf(MailerError)
    expect(err).toMatchObject({ retryable: true, retryAfterSeconds: 7 })
    expect(retryDelay(err, 1)).toBe(7)
    const plain = new MailerError('Resend 500', true)
    expect([1, 2, 3, 4, 10].map((n) => retryDelay(plain, n))).toEqual([10, 20, 40, 80, 600])
  })
})

describe('with no key on a local run, the confirmation lands in the outbox through the real queue', () => {
  it('arrives in /dev/outbox shortly after the signup', async () => {
    expect((await signup({ email: 'queued@example.com', consent }, { json: true })).status).toBe(202)
    expect(await mailsTo('queued@example.com')).toHaveLength(1)
  })
})

describe('a message that failed every retry', () => {
  it('is kept in D1 from the dead-letter queue, where it stays visible', async () => {
    const body = { kind: 'confirmation', subscriberId: 'gone', claimedAt: 1 }
    const batch = createMessageBatch('spine-exercises-mail-dlq', [
      { id: 'dead-1', timestamp: new Date(), attempts: 9, body },
    ])
    const ctx = createExecutionContext()
    await worker.queue(batch, env)
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true)
    const row = await env.DB.prepare("SELECT queue, body, attempts FROM dead_letters WHERE body LIKE '%gone%'").first()
    expect(row).toEqual({ queue: 'spine-exercises-mail-dlq', body: JSON.stringify(body), attempts: 9 })
  })
})

describe('when the MAIL queue refuses a confirmation', () => {
  it('answers 202 at once, and the cron relay then sends the confirmation and the event, once each', async () => {
    const queueDown = new Proxy(env.MAIL, {
      get: (target, prop) =>
        prop === 'send' || prop === 'sendBatch'
          ? () => Promise.reject(new Error('queue down'))
          : Reflect.get(target, prop),
    })
    const res = await signup(
      { email: 'queue-down@example.com', consent },
      { json: true, bindings: { ...env, MAIL: queueDown } },
    )
    expect(res.status).toBe(202)
    expect(await mailsTo('queue-down@example.com', 0)).toEqual([])
    // Two cron runs after the grace period: the relay hands the jobs over once.
    for (const minutes of [2, 3]) {
      const ctx = createExecutionContext()
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + minutes * 60_000 }), env, ctx)
      await waitOnExecutionContext(ctx)
    }
    expect((await mailsTo('queue-down@example.com')).map((m) => m.subject)).toEqual([expect.stringMatching(/confirm/i)])
    const hooks = (await (await fetch(`${inject('hookUrl')}/__received`)).json()) as { body: string }[]
    const created = hooks.filter((h) => h.body.includes('"queue-down@example.com"'))
    expect(created.map((h) => (JSON.parse(h.body) as { type: string }).type)).toEqual(['subscriber.created'])
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
  const guarded: Env = { ...env, TURNSTILE_SECRET: 'turnstile-test-secret' }
  const app = { turnstileVerifyUrl: inject('turnstileUrl') }

  it.each([
    ['no token', {}],
    ['a bad token', { 'cf-turnstile-response': 'bot' }],
  ])('refuses a signup with %s with 403, naming the field', async (_, extra) => {
    const res = await signup({ email: 'bot@example.com', consent, ...extra }, { json: true, bindings: guarded, app })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { fields: object } }).error.fields).toHaveProperty('cf-turnstile-response')
    expect(await subscriberByEmail('bot@example.com')).toBeNull()
  })

  it('takes a signup whose token passes', async () => {
    const res = await signup(
      { email: 'human@example.com', consent, 'cf-turnstile-response': 'pass' },
      { json: true, bindings: guarded, app },
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
