import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import worker from '../src/index'
import {
  consentText,
  get,
  lessonsDrained,
  linkIn,
  mailsTo,
  makeSubscriber,
  publish,
  signup,
  subscriberByEmail,
} from './helpers'
import { deliver, providerEvent } from './support/resend-webhook'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN, RESEND_WEBHOOK_SECRET: 'unused' }
const auth = { Authorization: `Bearer ${TOKEN}` }
const consent = consentText(inject('siteBuild'))
const hookUrl = inject('hookUrl')

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

/** What the admin API shows of one subscriber: the row and its history. */
async function shown(email: string) {
  const row = await subscriberByEmail(email)
  if (!row) return undefined
  const res = await get(`/api/admin/subscribers/${row.id}`, { headers: auth }, admin)
  return (await res.json()) as { subscriber: { status: string }; events: { type: string; data: string }[] }
}

/**
 * The event types the marketer's endpoint heard, in order, about bodies containing `needle`: once
 * `count` of them arrived, or the one of type `awaited` (or 5 s passed).
 */
async function heard(needle: string, count: number, awaited?: string): Promise<string[]> {
  const mine = async () =>
    ((await (await fetch(`${hookUrl}/__received`)).json()) as { body: string }[])
      .filter((r) => r.body.includes(needle))
      .map((r) => (JSON.parse(r.body) as { type: string }).type)
  const enough = (types: string[]) => (awaited ? types.includes(awaited) : types.length >= count)
  for (let i = 0; i < 200 && !enough(await mine()); i++) await new Promise((r) => setTimeout(r, 25))
  await new Promise((r) => setTimeout(r, 100))
  return mine()
}

/** A confirmed subscriber, signed up and confirmed through the routes; their links. */
async function confirmed(email: string) {
  await signup({ email, consent }, { json: true })
  const [mail] = await mailsTo(email)
  const text = mail as { text: string }
  await get(linkIn(text, 'confirm'), { method: 'POST' })
  return { confirm: linkIn(text, 'confirm'), unsubscribe: linkIn(text, 'unsubscribe'), mail: text }
}

const postForm = (path: string, fields: Record<string, string>) =>
  get(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  })

/** The preferences link of the confirmation page a subscriber lands on. */
async function preferencesLink(confirmPath: string): Promise<string> {
  const html = await (await get(confirmPath, { method: 'POST' })).text()
  const match = /href="(\/preferences\/[^"]+)"/.exec(html)
  if (!match?.[1]) throw new Error('no preferences link on the confirmation page')
  return match[1]
}

const cron = async (at: number) => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: at }), env, ctx)
  await waitOnExecutionContext(ctx)
}

describe('every transition of a subscription', () => {
  it.each([
    {
      what: 'signs up',
      act: async (email: string) => {
        await signup({ email, consent }, { json: true })
      },
      status: 'pending',
      history: 'signed_up',
      event: 'subscriber.created',
    },
    {
      what: 'confirms',
      act: async (email: string) => {
        await confirmed(email)
      },
      status: 'active',
      history: 'confirmed',
      event: 'subscriber.confirmed',
    },
    {
      what: 'pauses',
      act: async (email: string) => {
        const { confirm } = await confirmed(email)
        await postForm(await preferencesLink(confirm), { action: 'pause' })
      },
      status: 'paused',
      history: 'paused',
      event: 'subscriber.paused',
    },
    {
      what: 'resumes',
      act: async (email: string) => {
        const { confirm } = await confirmed(email)
        const prefs = await preferencesLink(confirm)
        await postForm(prefs, { action: 'pause' })
        await postForm(prefs, { action: 'resume' })
      },
      status: 'active',
      history: 'resumed',
      event: 'subscriber.resumed',
    },
    {
      what: 'restarts the course',
      act: async (email: string) => {
        const { confirm } = await confirmed(email)
        await postForm(await preferencesLink(confirm), { action: 'restart' })
      },
      status: 'active',
      history: 'restarted',
      event: 'subscriber.restarted',
    },
    {
      what: 'changes time zone',
      act: async (email: string) => {
        const { confirm } = await confirmed(email)
        await postForm(await preferencesLink(confirm), { action: 'save', timezone: 'Asia/Tokyo' })
      },
      status: 'active',
      history: 'profile_updated',
      event: 'subscriber.updated',
    },
    {
      what: 'unsubscribes',
      act: async (email: string) => {
        const { unsubscribe } = await confirmed(email)
        await get(unsubscribe, { method: 'POST' })
      },
      status: 'unsubscribed',
      history: 'unsubscribed',
      event: 'subscriber.unsubscribed',
    },
    {
      what: 'bounces',
      act: async (email: string) => {
        await confirmed(email)
        await deliver(providerEvent('email.bounced', email, { bounce: { type: 'Permanent' } }))
      },
      status: 'bounced',
      history: 'bounced',
      event: 'subscriber.bounced',
    },
    {
      what: 'complains',
      act: async (email: string) => {
        await confirmed(email)
        await deliver(providerEvent('email.complained', email))
      },
      status: 'complained',
      history: 'complained',
      event: 'subscriber.complained',
    },
    {
      what: 'completes the course',
      act: async (email: string) => {
        await makeSubscriber({ email, lesson_position: 4, next_send_at: Date.now() - 1000 })
        await cron(Date.now())
        await lessonsDrained()
      },
      status: 'completed',
      history: 'completed',
      event: 'subscriber.completed',
    },
    {
      what: 'is imported',
      act: async (email: string) => {
        const csv = `email,consent_at,consent_text\n${email},2026-01-02T03:04:05Z,I agreed\n`
        await get(
          '/api/admin/subscribers/import',
          { method: 'POST', headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv },
          admin,
        )
      },
      status: 'active',
      history: 'imported',
      event: 'subscriber.imported',
    },
  ])('$what: its state, its history line and its event', async ({ what, act, status, history, event }) => {
    const email = `transition-${what.replace(/\W+/g, '-')}@example.com`
    await act(email)
    const s = await shown(email)
    expect(s?.subscriber.status).toBe(status)
    expect(s?.events.map((e) => e.type)).toContain(history)
    expect(await heard(`"${email}"`, 1, event)).toContain(event)
  })

  it('is erased: nothing is left, and the marketer hears subscriber.erased with the id alone', async () => {
    const email = 'transition-erased@example.com'
    await confirmed(email)
    const id = (await subscriberByEmail(email))?.id ?? ''
    const res = await get(`/api/admin/people/${email}`, { method: 'DELETE', headers: auth }, admin)
    expect(await res.json()).toEqual({ erased: 1, suppressed: true })
    expect(await subscriberByEmail(email)).toBeNull()
    const events = await heard(`"id":"${id}"`, 3)
    expect(events).toContain('subscriber.erased')
    const erasedBody = ((await (await fetch(`${hookUrl}/__received`)).json()) as { body: string }[]).find(
      (r) => r.body.includes('subscriber.erased') && r.body.includes(id),
    )?.body
    expect(JSON.parse(erasedBody ?? '{}').data).toEqual({ id })
  })
})

describe('a confirmation link from an earlier signup', () => {
  it('confirms nothing once the reader unsubscribed and signed up again, and says why', async () => {
    const email = 'stale-link@example.com'
    const first = await confirmed(email)
    await get(first.unsubscribe, { method: 'POST' })
    await signup({ email, consent }, { json: true })
    expect((await subscriberByEmail(email))?.status).toBe('pending')

    const res = await get(first.confirm, { method: 'POST' })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('from an earlier signup')
    expect((await subscriberByEmail(email))?.status).toBe('pending')

    // The new signup's own link confirms it.
    const mails = await mailsTo(email, 2)
    const second = linkIn(mails[0] as { text: string }, 'confirm')
    expect(second).not.toBe(first.confirm)
    expect((await get(second, { method: 'POST' })).status).toBe(200)
    expect((await subscriberByEmail(email))?.status).toBe('active')
  })
})

describe('an address that was erased, bounced or complained', () => {
  const testSend = (to: string) =>
    get(
      '/api/admin/test-email',
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ to, email: 'confirmation' }),
      },
      admin,
    )

  it('gets no test send after erasure, and a provider event naming it does not store it again', async () => {
    const email = 'erased-for-good@example.com'
    await confirmed(email)
    await get(`/api/admin/people/${email}`, { method: 'DELETE', headers: auth }, admin)

    const res = await testSend(email)
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { fields: object } }).error.fields).toHaveProperty('to')
    expect(await mailsTo(email, 0)).toEqual([])

    const kept = async () => {
      const tables = await env.DB.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      ).all<{ name: string }>()
      let text = ''
      for (const { name } of tables.results)
        text += JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)
      const rows = await env.DB.prepare(
        'SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM trouble) AS n',
      ).first<{ n: number }>()
      return { names: text.toLowerCase().includes(email), rows: rows?.n }
    }
    const before = await kept()
    expect(before.names).toBe(false)
    for (const type of ['email.delivered', 'email.complained']) {
      const reported = await deliver(providerEvent(type, email))
      expect(reported.status).toBe(200)
      expect(await reported.json(), type).toEqual({ status: 'ignored' })
    }
    expect(await kept()).toEqual(before)
  })

  it.each([
    ['bounced', 'email.bounced', { bounce: { type: 'Permanent' } }],
    ['complained', 'email.complained', {}],
  ])('is refused by the test send once it %s', async (reason, type, extra) => {
    const email = `suppressed-${reason}@example.com`
    expect((await deliver(providerEvent(type, email, extra))).status).toBe(200)
    const res = await testSend(email)
    expect(res.status).toBe(409)
    expect(JSON.stringify(await res.json())).toContain(reason)
  })
})

describe('erasing one address', () => {
  it('keeps the dead letters of another address that merely contains it (banna@ when anna@ is erased)', async () => {
    await confirmed('anna@example.com')
    const keep = env.DB.prepare('INSERT INTO dead_letters (queue, body, attempts, received_at) VALUES (?, ?, 9, 0)')
    await env.DB.batch([
      keep.bind('spine-exercises-mail-dlq', JSON.stringify({ kind: 'webhook', data: { email: 'banna@example.com' } })),
      keep.bind('spine-exercises-mail-dlq', JSON.stringify({ kind: 'webhook', data: { email: 'Anna@example.com' } })),
    ])
    await get('/api/admin/people/anna@example.com', { method: 'DELETE', headers: auth }, admin)
    const left = await env.DB.prepare('SELECT body FROM dead_letters').all<{ body: string }>()
    expect(left.results.map((r) => JSON.parse(r.body).data.email)).toEqual(['banna@example.com'])
  })
})
