import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { consentText, get, makeSubscriber, publish, signup, subscriberCount } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const auth = { Authorization: `Bearer ${TOKEN}` }
const importCsv = (csv: string, query = '') =>
  get(
    `/api/admin/subscribers/import${query}`,
    { method: 'POST', headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv },
    admin,
  )
const list = async () =>
  (
    (await (await get('/api/admin/subscribers?limit=500', { headers: auth }, admin)).json()) as {
      subscribers: Record<string, unknown>[]
    }
  ).subscribers

const HEADER = 'email,first_name,status,consent_at,consent_text,utm_campaign'

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

describe('a CSV export imported back', () => {
  it('gives the same subscribers, consent evidence and attribution', async () => {
    // A spreadsheet formula and a value with quotes and commas survive the trip (names may hold
    // neither: the import checks them by the signup form's rule).
    const campaigns = ['spring', '=SUM(A1:A2)', 'Bo, "the" Third']
    for (const [i, name] of ['Ada', "O'Neil", 'Zoë'].entries())
      await makeSubscriber({
        email: `trip${i}@example.com`,
        first_name: name,
        status: i === 2 ? 'unsubscribed' : 'active',
        lesson_position: i,
        source: 'partner',
        utm_campaign: campaigns[i] ?? null,
        consent_ip: '203.0.113.9',
        consent_text: 'I agree, in "quotes", with commas',
        created_at: Date.parse(`2026-11-0${i + 1}T08:00:00Z`),
        confirmed_at: Date.parse(`2026-11-0${i + 1}T09:00:00Z`),
      })
    const before = (await list()).map(({ id: _, next_lesson_at: __, ...rest }) => rest)
    const csv = await (await get('/api/admin/subscribers.csv', { headers: auth }, admin)).text()
    await env.DB.prepare('DELETE FROM subscribers').run()
    const report = await (await importCsv(csv)).json()
    expect(report).toEqual({ taken: 3, refused: [] })
    const after = (await list()).map(({ id: _, next_lesson_at: __, ...rest }) => rest)
    expect(after).toEqual(before)
  })
})

describe('a CSV with bad rows', () => {
  it('takes the good rows in one go and reports each refused row with its line and reasons', async () => {
    await makeSubscriber({ email: 'already@example.com' })
    const csv = [
      HEADER,
      'good1@example.com,Ann,active,2026-11-01T10:00:00Z,I agree,',
      'not-an-email,Bob,active,2026-11-01T10:00:00Z,I agree,',
      'noconsent@example.com,Cy,active,,,',
      'good1@example.com,Ann,active,2026-11-01T10:00:00Z,I agree,',
      'badstatus@example.com,Di,vip,yesterday,I agree,',
      'already@example.com,Ed,active,2026-11-01T10:00:00Z,I agree,',
      'good2@example.com,,pending,2026-11-02T10:00:00+01:00,I agree,fall',
    ].join('\r\n')
    const before = await subscriberCount()
    const report = (await (await importCsv(csv)).json()) as {
      taken: number
      refused: { line: number; email: string; reasons: string[] }[]
    }
    expect(report.taken).toBe(2)
    expect(report.refused.map((r) => [r.line, r.email])).toEqual([
      [3, 'not-an-email'],
      [4, 'noconsent@example.com'],
      [5, 'good1@example.com'],
      [6, 'badstatus@example.com'],
      [7, 'already@example.com'],
    ])
    expect(report.refused.find((r) => r.email === 'noconsent@example.com')?.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining('consent_at'), expect.stringContaining('consent_text')]),
    )
    expect(report.refused.find((r) => r.email === 'badstatus@example.com')?.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining('status'), expect.stringContaining('consent_at')]),
    )
    expect(await subscriberCount()).toBe(before + 2)
  })

  it('never brings back an erased address, nor takes a course that is not published or lessons it does not have', async () => {
    await importCsv(`${HEADER}\r\nforget.me@example.com,Fay,active,2026-11-01T10:00:00Z,I agree,`)
    const erase = await get('/api/admin/people/forget.me@example.com', { method: 'DELETE', headers: auth }, admin)
    expect(erase.status).toBe(200)
    const before = await subscriberCount()
    const res = await importCsv(
      [
        'email,status,course,lessons_received,consent_at,consent_text',
        'Forget.Me@example.com,active,cure-back-pain-program,0,2026-11-01T10:00:00Z,I agree',
        'other@example.com,active,no-such-course,0,2026-11-01T10:00:00Z,I agree',
        'far@example.com,active,cure-back-pain-program,9,2026-11-01T10:00:00Z,I agree',
      ].join('\r\n'),
    )
    expect(res.status).toBe(422)
    const report = (await res.json()) as { refused: { line: number; email: string; reasons: string[] }[] }
    expect(report.refused).toEqual([
      { line: 2, email: 'Forget.Me@example.com', reasons: [expect.stringContaining('erased')] },
      { line: 3, email: 'other@example.com', reasons: ['course must be one of cure-back-pain-program'] },
      { line: 4, email: 'far@example.com', reasons: [expect.stringMatching(/^lessons_received must be at most 5/)] },
    ])
    expect(await subscriberCount()).toBe(before)
  })

  it('stores nothing on a dry run, nor when every row is refused (422)', async () => {
    const before = await subscriberCount()
    const dry = (await (
      await importCsv(`${HEADER}\r\ndry@example.com,,active,2026-11-01T10:00:00Z,I agree,`, '?dry_run=1')
    ).json()) as {
      taken: number
    }
    expect(dry.taken).toBe(1)
    const bad = await importCsv(`${HEADER}\r\nnope,,active,,,`)
    expect(bad.status).toBe(422)
    expect(await subscriberCount()).toBe(before)
  })

  it('refuses a body that is not text/csv with 415', async () => {
    const res = await get(
      '/api/admin/subscribers/import',
      { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '[]' },
      admin,
    )
    expect(res.status).toBe(415)
  })
})

describe('an imported address', () => {
  it('is kept as written, compared lower-cased, and gets the course, times and status the row gives or the defaults', async () => {
    const res = await importCsv(
      [
        'email,status,lessons_received,consent_at,consent_text,created_at',
        ' Mixed.Case@Example.com ,paused,3,2026-10-01T10:00:00+02:00,I agree,2026-10-02T00:00:00Z',
        'plain.row@example.com,,,2026-10-01T10:00:00Z,I agree,',
      ].join('\n'),
    )
    expect(await res.json()).toEqual({ taken: 2, refused: [] })
    const row = (email: string) =>
      env.DB.prepare(
        `SELECT email, email_normalized, course, status, timezone, lesson_position, next_send_at, consent_at, created_at, updated_at
         FROM subscribers WHERE email_normalized = ?`,
      )
        .bind(email)
        .first<Record<string, unknown>>()
    expect(await row('mixed.case@example.com')).toMatchObject({
      email: 'Mixed.Case@Example.com',
      course: 'cure-back-pain-program',
      status: 'paused',
      timezone: 'UTC',
      lesson_position: 3,
      next_send_at: null,
      consent_at: Date.parse('2026-10-01T08:00:00Z'),
      created_at: Date.parse('2026-10-02T00:00:00Z'),
    })
    const plain = await row('plain.row@example.com')
    expect(plain).toMatchObject({ email: 'plain.row@example.com', status: 'active', lesson_position: 0 })
    // Due now, created now: the import's own time.
    expect(plain?.next_send_at).toBe(plain?.updated_at)
    expect(plain?.created_at).toBe(plain?.updated_at)
    const again = await importCsv(`email,consent_at,consent_text\nmixed.case@EXAMPLE.com,2026-10-01T10:00:00Z,I agree`)
    expect(((await again.json()) as { refused: { reasons: string[] }[] }).refused[0]?.reasons).toEqual([
      'is already subscribed to this course',
    ])
  })
})

describe("an imported subscriber's event", () => {
  it("carries what a signup's event carries, to the marketer's endpoint", async () => {
    await importCsv(`${HEADER}\r\nhook.imported@example.com,Ida,active,2026-11-01T10:00:00Z,I agree,`)
    await signup({ email: 'hook.signed@example.com', consent: consentText(inject('siteBuild')) }, { json: true })
    const heard = async (email: string) => {
      for (let i = 0; i < 200; i++) {
        const received = (await (await fetch(`${inject('hookUrl')}/__received`)).json()) as { body: string }[]
        const body = received.find((r) => r.body.includes(`"${email}"`))?.body
        if (body) return JSON.parse(body) as { type: string; data: Record<string, unknown> }
        await new Promise((r) => setTimeout(r, 25))
      }
      throw new Error(`no event about ${email}`)
    }
    const imported = await heard('hook.imported@example.com')
    const created = await heard('hook.signed@example.com')
    expect(imported.type).toBe('subscriber.imported')
    expect(imported.data).toMatchObject({ first_name: 'Ida', status: 'active', lessons_received: 0 })
    expect(Object.keys(imported.data).sort()).toEqual(Object.keys(created.data).sort())
  })
})

describe('a CSV up to the 5 MB limit', () => {
  /** `n` rows of new addresses, one a line: about 47 bytes each. */
  const rows = (prefix: string, n: number) =>
    [
      'email,consent_at,consent_text',
      ...Array.from({ length: n }, (_, i) => `${prefix}${i}@example.org,2026-11-01T10:00:00Z,yes`),
    ].join('\n')
  const stored = async (prefix: string) =>
    await env.DB.prepare(
      `SELECT count(*) AS subscribers, count(DISTINCT email_normalized) AS addresses,
         (SELECT count(*) FROM subscriber_events e JOIN subscribers s ON s.id = e.subscriber_id
          WHERE e.type = 'imported' AND s.email_normalized LIKE ?1) AS history
       FROM subscribers WHERE email_normalized LIKE ?1`,
    )
      .bind(`${prefix}%`)
      .first<{ subscribers: number; addresses: number; history: number }>()
  /** How many events about addresses starting with `prefix` the marketer's endpoint has had, once it settles. */
  const heardOf = async (prefix: string, count: number) => {
    const mine = async () => {
      try {
        const received = (await (await fetch(`${inject('hookUrl')}/__received`)).json()) as { body: string }[]
        return received.filter((r) => r.body.includes(`"email":"${prefix}`)).length
      } catch {
        return 0 // the endpoint is busy receiving; ask again
      }
    }
    for (let i = 0; i < 400 && (await mine()) < count; i++) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 100))
    return mine()
  }
  const waitingEvents = async () =>
    (
      await env.DB.prepare(
        `SELECT count(*) AS n FROM queue_outbox WHERE body ->> '$.type' = 'subscriber.imported'`,
      ).first<{ n: number }>()
    )?.n ?? 0

  it('takes 40,000 rows (1.9 MB) in one go: every one stored, with its history line and event', async () => {
    const csv = rows('bulk', 40_000)
    expect(csv.length).toBeGreaterThan(1_800_000)
    const eventsBefore = await waitingEvents()
    const res = await importCsv(csv)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ taken: 40_000, refused: [] })
    expect(await stored('bulk')).toEqual({ subscribers: 40_000, addresses: 40_000, history: 40_000 })
    // The first 500 events go to the queue at once; the others wait in the outbox for the cron's relay.
    expect(await heardOf('bulk', 500)).toBe(500)
    expect(await waitingEvents()).toBe(eventsBefore + 40_000 - 500)
  }, 30_000)

  it('takes a CSV of just under 5 MB', async () => {
    const csv = rows('near', 111_000)
    expect(csv.length).toBeGreaterThan(5_200_000)
    expect(csv.length).toBeLessThan(5 << 20)
    const res = await importCsv(csv)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { taken: number }).taken).toBe(111_000)
    expect(await stored('near')).toEqual({ subscribers: 111_000, addresses: 111_000, history: 111_000 })
    expect(await heardOf('near', 500)).toBe(500)
  }, 30_000)

  it('stores none of 40,000 rows when the transaction fails at the last one', async () => {
    // Something only the database refuses, on the very last row of the last statement.
    await env.DB.prepare(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON subscribers WHEN new.email_normalized = 'atomic39999@example.org'
       BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`,
    ).run()
    try {
      const before = await subscriberCount()
      const eventsBefore = await waitingEvents()
      const res = await importCsv(rows('atomic', 40_000))
      expect(res.status).toBe(500)
      expect(await subscriberCount()).toBe(before)
      expect(await stored('atomic')).toEqual({ subscribers: 0, addresses: 0, history: 0 })
      expect(await waitingEvents()).toBe(eventsBefore)
    } finally {
      await env.DB.prepare('DROP TRIGGER refuse_poison').run()
    }
  }, 30_000)

  it('refuses a body over 5 MB with 413 in the one error shape, naming the limit', async () => {
    const before = await subscriberCount()
    const res = await importCsv(`${rows('over', 10)}\n${'x'.repeat(5 << 20)}`)
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      error: { status: 413, message: 'body must be at most 5 MB', fields: { body: 'must be at most 5 MB' } },
    })
    expect(await subscriberCount()).toBe(before)
  })
})
