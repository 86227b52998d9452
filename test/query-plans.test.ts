/**
 * The query plans of what runs most (issue 13): every statement a signup, a confirmation, the
 * cron's claims, the queue's consumers, a provider webhook and the stats make is recorded on its
 * way to D1, and SQLite's EXPLAIN QUERY PLAN of each is read. None may scan a table that grows
 * with subscribers or emails; and every index must be used by some statement of a tour of the
 * whole product, or it is only a cost (bytes on every row, work on every write).
 */
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { applyRetention } from '../src/admin/retention'
import worker from '../src/index'
import { dispatchBroadcasts } from '../src/newsletter/dispatch'
import { lifecycleOf } from '../src/subscribers/lifecycle'
import { applySunset } from '../src/subscribers/sunset'
import { newsletterOf } from '../src/ui/types'
import { ADMIN_TOKEN, adminApi, adminSession, get, lessonsDrained, linkIn, mailsTo, publish, signup } from './helpers'
import { deliver, providerEvent, WEBHOOK_SECRET } from './support/resend-webhook'

/** Tables that grow with subscribers or emails: a hot statement never reads one whole. */
const GROWING = ['subscribers', 'receipts', 'deliveries', 'broadcast_recipients', 'subscriber_events', 'link_clicks']

/** Every SQL text prepared, by the part of the product that prepared it. */
const seen = new Map<string, Set<string>>()
let phase = ''

/** A D1 binding that notes each statement's SQL, then lets the real D1 run it. */
const recording: D1Database = new Proxy(env.DB, {
  get(target, key) {
    if (key === 'prepare')
      return (sql: string) => {
        const set = seen.get(phase) ?? new Set<string>()
        seen.set(phase, set)
        set.add(sql)
        return target.prepare(sql)
      }
    const value = Reflect.get(target, key)
    return typeof value === 'function' ? value.bind(target) : value
  },
})
const bindings: Env = { ...env, DB: recording, ADMIN_TOKEN, RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET }

async function during<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  phase = name
  try {
    return await run()
  } finally {
    phase = ''
  }
}

/** Runs one queue message through the Worker's consumer, with the recording binding. */
async function consume(queue: string, body: unknown) {
  const batch = createMessageBatch(queue, [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body }])
  await worker.queue(batch, bindings)
}

const api = adminApi(bindings)

/** How many parameters a statement takes: its highest ?N, or its count of bare ?. */
function parameters(sql: string): number {
  const numbered = [...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1]))
  return numbered.length > 0 ? Math.max(...numbered) : (sql.match(/\?/g) ?? []).length
}

/** The plan of one statement (its parameters NULL: nothing runs): SQLite's EXPLAIN QUERY PLAN details. */
const plan = async (sql: string) =>
  (
    await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...Array.from({ length: parameters(sql) }, () => null))
      .all<{ detail: string }>()
  ).results.map((r) => r.detail)

const plans = new Map<string, { sql: string; detail: string[] }[]>()

beforeAll(async () => {
  const build = inject('siteBuild')
  await publish(build)
  const consent = build.settings.courses['cure-back-pain-program']?.consent ?? ''
  const email = 'planned@example.com'
  await during('signup', () =>
    signup({ email, consent, newsletter: build.settings.newsletter?.consent ?? '' }, { json: true, bindings }),
  )
  await lessonsDrained()
  const [confirmation] = await mailsTo(email)
  await during('confirm', () => get(linkIn(confirmation ?? { text: '' }, 'confirm'), { method: 'POST' }, bindings))
  const id = (await env.DB.prepare('SELECT id FROM subscribers WHERE email = ?').bind(email).first<{ id: string }>())
    ?.id
  const now = Date.now()
  // The cron at an hour with no daily work: the claims of lessons and broadcasts, and the relay.
  const notFour = Math.floor(now / 86_400_000) * 86_400_000 + 10 * 3_600_000 + 86_400_000
  await during('cron', async () => {
    const ctx = createExecutionContext()
    await worker.scheduled({ scheduledTime: notFour, cron: '*/5 * * * *', noRetry() {} }, bindings, ctx)
    await waitOnExecutionContext(ctx)
  })
  await lessonsDrained()
  await during('lessons', () =>
    consume('spine-exercises-lessons', {
      kind: 'lessons',
      course: 'cure-back-pain-program',
      pairs: [{ subscriberId: id, round: 1, lesson: 2 }],
      dispatchedAt: notFour,
    }),
  )
  // A broadcast for later: taken when scheduled; claimed when due (its jobs kept here, the real
  // queue's consumer would race this one), then sent by the consumer.
  const at = new Date(now + 3_600_000).toISOString()
  const scheduled = await during('broadcast', () =>
    api('/api/admin/broadcasts', 'POST', { path: '/letters/welcome', send: at }),
  )
  expect(scheduled.status).toBe(201)
  const b = (await scheduled.json()) as { id: string }
  const jobs: unknown[] = []
  const held = {
    send: async (body: unknown) => void jobs.push(body),
    sendBatch: async (messages: { body: unknown }[]) => void jobs.push(...messages.map((m) => m.body)),
  } as unknown as Queue
  await during('broadcast', () =>
    dispatchBroadcasts(recording, held, now + 3_600_000, newsletterOf(build.settings).schedule),
  )
  expect(jobs).toHaveLength(1)
  await during('broadcast', () => consume('spine-exercises-lessons', jobs[0]))
  await during('webhook', async () => {
    const tags = { type: 'broadcast', broadcast: b.id, subscriber: id ?? '' }
    expect(await (await api(`/api/admin/broadcasts/${b.id}`)).json()).toMatchObject({ sent: 1 })
    for (const type of ['email.delivered', 'email.opened', 'email.bounced'])
      await deliver(
        { ...providerEvent(type, email), data: { to: [email], tags, bounce: { type: 'Transient' } } },
        {
          bindings,
        },
      )
  })
  await during('stats', () => api('/api/admin/stats'))
  // The rest of the tour, for the indexes: the dashboard, a subscriber's page, the lists, the
  // export, the retention, an erasure.
  const cookie = await adminSession(bindings)
  await during('tour', async () => {
    for (const path of ['/admin', '/admin/subscribers', `/admin/subscribers/${id}`, '/admin/broadcasts'])
      await get(path, { headers: { Cookie: cookie } }, bindings)
    await api('/api/admin/subscribers?source=x&limit=5')
    await api(`/api/admin/people/${email}`)
    await get('/dev/outbox.json', {}, bindings)
    const sunset = { ...build.settings, sunset: { afterEmails: 1 } }
    await applySunset(lifecycleOf(bindings), sunset, now)
    await applySunset(lifecycleOf(bindings), sunset, now + 30 * 86_400_000)
    await applyRetention(recording, build.settings, now + 500 * 86_400_000)
    await api(`/api/admin/people/${email}`, 'DELETE')
  })
  for (const [name, sqls] of seen)
    plans.set(name, await Promise.all([...sqls].map(async (sql) => ({ sql, detail: await plan(sql) }))))
})

describe('the hot statements', () => {
  it.each([
    'signup',
    'confirm',
    'cron',
    'lessons',
    'broadcast',
    'webhook',
    'stats',
  ])('of %s read no growing table whole', (name) => {
    const statements = plans.get(name) ?? []
    expect(statements.length, `${name} made no statement`).toBeGreaterThan(0)
    for (const { sql, detail } of statements)
      for (const line of detail)
        for (const table of GROWING)
          expect(new RegExp(`^SCAN ${table}\\b`).test(line), `${line}\n  in ${sql}`).toBe(false)
  })

  it('include the due claim, the signup lookup, the receipt of an event and the stats counters', () => {
    const all = (name: string) => (plans.get(name) ?? []).map((p) => p.sql).join('\n')
    expect(all('cron')).toMatch(/next_send_at <= \?1/)
    expect(all('signup')).toMatch(/email_normalized/)
    expect(all('webhook')).toMatch(/INSERT INTO receipts/)
    expect(all('stats')).toMatch(/FROM emails m JOIN email_counts/)
  })
})

describe('every index', () => {
  it('is used by some statement of the tour, or enforces a constraint', async () => {
    const { results } = await env.DB.prepare(
      "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
    ).all<{ name: string; tbl_name: string }>()
    const used = [...plans.values()].flat().flatMap((p) => p.detail)
    const unused = results.filter(({ name }) => !used.some((line) => new RegExp(`INDEX ${name}\\b`).test(line)))
    expect(unused.map((i) => `${i.tbl_name}.${i.name}`)).toEqual([])
  })
})
