/**
 * Broadcasts against a Resend that fails on purpose (test/support/resend-server.ts): sent now,
 * each member gets it once; cancelled mid-send, the rest stops; over the complaint limit, the
 * guard pauses it until a marketer resumes. Everything is observed where a marketer or a reader
 * would see it: the admin API, the provider's webhook route, and what the provider accepted.
 *
 * This file shares the chaos project's one Resend-speaking server with course-chaos: it never resets
 * it, counts only what carries its own broadcasts' tags, and fetches the server's whole record
 * (every email course-chaos left there too) only once a step.
 */
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { cronAt, get, lessonsDrained, makeSubscriber, publish } from '../helpers'
import { resendControl } from '../support/resend-control'
import type { AcceptedEmail, Faults, Stats } from '../support/resend-server'
import { deliver, providerEvent } from '../support/resend-webhook'

const resend = resendControl(inject('resendUrl'))
const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const ESSAY = '/back-pain/posture/sitting-all-day'
const LETTER = '/letters/welcome'
/** The newsletter's members: five provider batches of 100 a broadcast. */
const MEMBERS = 500
const BATCHES = MEMBERS / 100
const members = Array.from({ length: MEMBERS }, (_, i) => `reader${i}@broadcast-chaos.example.com`)
/** About a fifth of the calls fail: rate limited, a server error, or accepted with the answer lost. */
const A_FIFTH: Faults = { rate429: 0.07, rate500: 0.07, rateDrop: 0.06, dropAfterAccept: true, retryAfterSeconds: 0 }

interface Presented {
  id: string
  path: string
  status: string
  recipients: number
  sent: number
  skipped: number
  failed: number
  remaining: number
  skipped_because: Record<string, number>
  paused_reason: string | null
}

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
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    admin,
  )

const show = async (id: string) => {
  const res = await api(`/api/admin/broadcasts/${id}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Presented
}

const create = async (body: { path: string; send: string }) => {
  const res = await api('/api/admin/broadcasts', 'POST', body)
  expect(res.status).toBe(201)
  return (await res.json()) as Presented
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`)
    await sleep(25)
  }
}

/** The broadcast once its last batch has settled it (sent, or still cancelled or paused). */
async function settled(id: string): Promise<Presented> {
  await lessonsDrained()
  let b = await show(id)
  await waitFor(`${id} to settle`, async () => {
    b = await show(id)
    return b.status !== 'sending' && b.status !== 'scheduled'
  })
  return b
}

/** Which broadcast an accepted email belongs to (its `broadcast` tag). */
const broadcastOf = (e: AcceptedEmail) => e.email.tags?.find((t) => t.name === 'broadcast')?.value

/** How many emails of one broadcast the provider accepted for each address. */
function receivedBy(emails: AcceptedEmail[], id: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const e of emails.filter((x) => broadcastOf(x) === id))
    for (const to of e.email.to) counts.set(to, (counts.get(to) ?? 0) + 1)
  return counts
}
const twice = (counts: Map<string, number>) => [...counts].filter(([, n]) => n !== 1)

const delta = (before: Stats, after: Stats, status: string) =>
  (after.byStatus[status] ?? 0) - (before.byStatus[status] ?? 0)

/**
 * What a Resend event says of the email it is about: its id, and the tags it was sent with (Resend
 * echoes them; the webhook finds the email and the subscriber by them).
 */
const about = (e: AcceptedEmail) => ({
  email_id: e.id,
  tags: Object.fromEntries((e.email.tags ?? []).map((t) => [t.name, t.value])),
})

/** Posts one signed Resend event to the webhook route and expects it recorded. */
async function reported(type: string, to: string, data: Record<string, unknown>) {
  const res = await deliver(providerEvent(type, to, data))
  expect(res.status, `${type} for ${to}`).toBe(200)
  expect(((await res.json()) as { status: string }).status).toBe('recorded')
}

/** What the provider accepted of the first broadcast (the one sent now), for the webhook events of (c). */
let firstIssue: AcceptedEmail[] = []

beforeAll(async () => {
  await publish(inject('secondEssayBuild'))
  for (let i = 0; i < MEMBERS; i += 50)
    await Promise.all(members.slice(i, i + 50).map((email) => makeSubscriber({ email, newsletter: 'active' })))
  // Not members: the course only, and one who left the newsletter.
  await makeSubscriber({ email: 'course-only@broadcast-chaos.example.com' })
  await makeSubscriber({ email: 'left@broadcast-chaos.example.com', newsletter: 'left' })
}, 60_000)

afterAll(async () => {
  await resend.setFaults({})
})

describe('(a) a broadcast sent now, while Resend fails a fifth of its calls', () => {
  it('reaches every member exactly once, and the API reports it sent to all', async () => {
    // Seeded: the first batches meet a 429, a 500 and an answer lost after Resend accepted them.
    await resend.setFaults({ ...A_FIFTH, seed: 146 })
    const before = await resend.stats()
    const created = await create({ path: ESSAY, send: 'now' })
    expect(created).toMatchObject({ path: ESSAY, status: 'sending', recipients: MEMBERS })

    const after = await settled(created.id)
    expect(after).toMatchObject({
      status: 'sent',
      recipients: MEMBERS,
      sent: MEMBERS,
      skipped: 0,
      failed: 0,
      remaining: 0,
      paused_reason: null,
    })

    const emails = await resend.accepted()
    const got = receivedBy(emails, created.id)
    expect(twice(got)).toEqual([])
    expect([...got.keys()].sort()).toEqual([...members].sort())
    firstIssue = emails.filter((e) => broadcastOf(e) === created.id)
    expect(firstIssue.every((e) => e.email.subject === 'Sitting All Day')).toBe(true)

    // The faults really happened: this is not a run where every call went through the first time.
    const stats = await resend.stats()
    expect(delta(before, stats, '429')).toBeGreaterThan(0)
    expect(delta(before, stats, '500')).toBeGreaterThan(0)
    expect(stats.dropped - before.dropped).toBeGreaterThan(0)
  }, 30_000)
})

describe('(b) a cancel while Resend turns most calls away', () => {
  let id = ''
  /** When the cancel had answered (the provider records when it accepted each email). */
  let cancelledAt = 0
  let atCancel: Presented
  let final: Presented
  let emails: AcceptedEmail[] = []

  it('leaves nobody with it twice, and sent + skipped (cancelled) = recipients', async () => {
    // Four calls in five rate limited (seeded: only the fifth batch goes through the first time).
    await resend.setFaults({ rate429: 0.8, retryAfterSeconds: 1, seed: 2 })
    const before = await resend.stats()
    const created = await create({ path: LETTER, send: 'now' })
    id = created.id
    expect(created).toMatchObject({ status: 'sending', recipients: MEMBERS })
    // Mid-send: every batch has been tried once, and some readers have it.
    await waitFor('every batch tried once and a first one sent', async () => {
      if ((await resend.stats()).requests - before.requests < BATCHES) return false
      return (await show(id)).sent > 0
    })

    const res = await api(`/api/admin/broadcasts/${id}/cancel`, 'POST')
    expect(res.status).toBe(200)
    atCancel = (await res.json()) as Presented
    cancelledAt = Date.now()
    expect(atCancel.status).toBe('cancelled')
    expect(atCancel.sent).toBeLessThan(MEMBERS)

    // Resend recovers (to its usual fifth of failures); whatever was left to retry now could go.
    await resend.setFaults({ ...A_FIFTH, seed: 5 })
    final = await settled(id)
    emails = await resend.accepted()

    expect(final.status).toBe('cancelled')
    expect(final.failed).toBe(0)
    expect(final.sent + final.skipped).toBe(final.recipients)
    expect(final.skipped_because).toEqual(final.skipped > 0 ? { cancelled: final.skipped } : {})
    const got = receivedBy(emails, id)
    expect(twice(got)).toEqual([])
    expect(got.size).toBe(final.sent)
    expect([...got.keys()].every((to) => members.includes(to))).toBe(true)
    // Whoever the broadcast counts as skipped never got it, before or after the cancel.
    const skipped = await env.DB.prepare(
      `SELECT s.email FROM broadcast_recipients r JOIN subscribers s ON s.id = r.subscriber_id
       WHERE r.broadcast_id = ? AND r.status = 'skipped'`,
    )
      .bind(id)
      .all<{ email: string }>()
    expect(skipped.results).toHaveLength(final.skipped)
    expect(skipped.results.filter((r) => got.has(r.email))).toEqual([])
  }, 45_000)

  it('stops the rest: after the cancel answered, at most the one batch then in flight goes out', () => {
    expect(id).not.toBe('')
    const late = emails.filter((e) => broadcastOf(e) === id && e.receivedAt > cancelledAt)
    // The bulk queue sends one provider batch at a time: one may have been on the wire when the cancel landed.
    expect(late.length, 'emails of the cancelled broadcast accepted after the cancel').toBeLessThanOrEqual(100)
    expect(final.sent - atCancel.sent, 'recipients counted sent after the cancel').toBeLessThanOrEqual(100)
    expect(final.skipped, 'recipients the cancel stopped').toBeGreaterThanOrEqual(MEMBERS - atCancel.sent - 100)
  })
})

describe('(c) the complaint guard, while Resend fails a fifth of its calls', () => {
  let sending: Presented
  let later: Presented
  let paused: Presented
  const complainers = [members[7] as string, members[300] as string]
  const firstIssueTo = (to: string) => {
    const e = firstIssue.find((x) => x.email.to.includes(to))
    if (!e) throw new Error(`no first issue to ${to}`)
    return e
  }

  it('pauses a sending broadcast once complaints pass 0.3% of the mail delivered in 7 days', async () => {
    expect(firstIssue).toHaveLength(MEMBERS)
    await resend.setFaults({ ...A_FIFTH, seed: 11 })
    // Resend reports the first issue delivered to every member.
    for (let i = 0; i < firstIssue.length; i += 25)
      await Promise.all(
        firstIssue.slice(i, i + 25).map((e) => reported('email.delivered', e.email.to[0] ?? '', about(e))),
      )
    // One broadcast waiting for its time, one going out now.
    later = await create({ path: LETTER, send: new Date(Date.now() + 3_600_000).toISOString() })
    expect(later.status).toBe('scheduled')
    sending = await create({ path: ESSAY, send: 'now' })
    expect(sending).toMatchObject({ status: 'sending', recipients: MEMBERS })
    // Its batches are on the bulk queue, whose consumer waits up to a second to fill a batch: the
    // complaints below arrive while it is sending and before any of it reaches Resend.

    // One complaint in 500 delivered is 0.2%: under the limit, sending goes on.
    const [first, second] = complainers as [string, string]
    await reported('email.complained', first, about(firstIssueTo(first)))
    expect(await show(sending.id)).toMatchObject({ status: 'sending', paused_reason: null })
    // The second makes 0.4%: over it, and the guard pauses at once.
    await reported('email.complained', second, about(firstIssueTo(second)))
    paused = await show(sending.id)
    expect(paused.status).toBe('paused')
    expect(paused.paused_reason).toMatch(
      /^spam complaints are 0\.4% of the mail delivered in the last 7 days \(2 of 500\)/,
    )
    // Every broadcast the guard would let go out is paused, the one still waiting for its time too.
    expect(await show(later.id)).toMatchObject({ status: 'paused', sent: 0 })
    expect((await show(later.id)).paused_reason).toMatch(/complaints/)
  }, 45_000)

  it('mails nobody more while paused, not even when the cron comes by', async () => {
    expect(paused?.status).toBe('paused')
    await lessonsDrained()
    const held = await show(sending.id)
    expect(held.status).toBe('paused')
    expect(held.remaining).toBeGreaterThan(0)

    await cronAt(Date.now() + 5 * 60_000)
    await sleep(1_500)
    await lessonsDrained()
    const still = await show(sending.id)
    expect(still).toMatchObject({ status: 'paused', sent: held.sent, remaining: held.remaining })
    // What the provider has of it is what it had when the pause settled: nothing more went out.
    const emails = await resend.accepted()
    const got = receivedBy(emails, sending.id)
    expect(twice(got)).toEqual([])
    expect(got.size).toBe(held.sent)
    expect(receivedBy(emails, later.id).size).toBe(0)
  }, 30_000)

  it('goes on to the end after POST /resume, not pausing again for the complaints resumed past', async () => {
    const res = await api(`/api/admin/broadcasts/${sending.id}/resume`, 'POST')
    expect(res.status).toBe(200)
    expect((await res.json()) as Presented).toMatchObject({ status: 'sending', paused_reason: null })
    // The guard looks again at the next cron, and after every bounce Resend reports: the same
    // complaints, still 0.4% of the week's mail, do not pause it again.
    await cronAt(Date.now())
    const someone = members[42] as string
    await reported('email.bounced', someone, { ...about(firstIssueTo(someone)), bounce: { type: 'Transient' } })
    expect((await show(sending.id)).status).not.toBe('paused')

    const final = await settled(sending.id)
    expect(final).toMatchObject({ status: 'sent', paused_reason: null, failed: 0, remaining: 0 })
    expect(final.sent + final.skipped).toBe(MEMBERS)
    // Those who complained are not mailed again (unless it reached them before they complained).
    expect(final.skipped_because).toEqual(final.skipped > 0 ? { complained: final.skipped } : {})
    const got = receivedBy(await resend.accepted(), sending.id)
    expect(twice(got)).toEqual([])
    expect(got.size).toBe(final.sent)
    for (const to of members.filter((m) => !complainers.includes(m))) expect(got.get(to), to).toBe(1)
    expect(complainers.filter((c) => got.has(c)).length + final.skipped).toBe(complainers.length)
  }, 45_000)

  it('a broadcast paused before its time is scheduled again on resume, not sending', async () => {
    const res = await api(`/api/admin/broadcasts/${later.id}/resume`, 'POST')
    expect(res.status).toBe(200)
    const resumed = (await res.json()) as Presented
    const now = await show(later.id)
    // Cancelled either way, so that nothing of it goes out after this test.
    const cancelled = await api(`/api/admin/broadcasts/${later.id}/cancel`, 'POST')
    expect(cancelled.status).toBe(200)
    expect((await cancelled.json()) as Presented).toMatchObject({
      status: 'cancelled',
      sent: 0,
      skipped: later.recipients,
    })
    expect(now.sent).toBe(0)
    expect(resumed.status, 'status after resuming a broadcast due in an hour').toBe('scheduled')
  })

  it('a pause while Resend turns most calls away stops the rest too: at most the batch in flight goes out', async () => {
    // While complaints stay over the limit, a new broadcast pauses as soon as it is dispatched.
    const created = await create({ path: ESSAY, send: 'now' })
    const held = await show(created.id)
    expect(held).toMatchObject({ status: 'paused', sent: 0, recipients: MEMBERS - complainers.length })
    expect(held.paused_reason).toMatch(/complaints/)

    await resend.setFaults({ rate429: 0.8, retryAfterSeconds: 1, seed: 2 })
    const before = await resend.stats()
    const res = await api(`/api/admin/broadcasts/${created.id}/resume`, 'POST')
    expect(res.status).toBe(200)
    await waitFor('every batch tried once and a first one sent', async () => {
      if ((await resend.stats()).requests - before.requests < BATCHES) return false
      return (await show(created.id)).sent > 0
    })
    // A new complaint: 3 of 500, and this one came after the resume.
    const third = members[99] as string
    await reported('email.complained', third, about(firstIssueTo(third)))
    const atPause = await show(created.id)
    const pausedAt = Date.now()
    expect(atPause.status).toBe('paused')
    expect(atPause.paused_reason).toMatch(/\(3 of 500\)/)

    await resend.setFaults({ ...A_FIFTH, seed: 3 })
    await lessonsDrained()
    const after = await show(created.id)
    const emails = await resend.accepted()
    // Cancelled either way, so that nothing of it goes out after this test.
    expect((await api(`/api/admin/broadcasts/${created.id}/cancel`, 'POST')).status).toBe(200)

    expect(after.status).toBe('paused')
    expect(twice(receivedBy(emails, created.id))).toEqual([])
    const late = emails.filter((e) => broadcastOf(e) === created.id && e.receivedAt > pausedAt)
    expect(late.length, 'emails of the paused broadcast accepted after the pause').toBeLessThanOrEqual(100)
    expect(after.sent - atPause.sent, 'recipients counted sent after the pause').toBeLessThanOrEqual(100)
    expect(after.remaining, 'recipients the pause held back').toBeGreaterThanOrEqual(
      after.recipients - atPause.sent - 100 - 1,
    )
  }, 45_000)
})
