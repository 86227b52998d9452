import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { get, makeSubscriber, publish, subscriberCount } from './helpers'

const TOKEN = 'admin-token-for-tests-only'
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
