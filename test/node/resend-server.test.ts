import { type CreateEmailOptions, Resend } from 'resend'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AcceptedEmail, type ResendServer, type Stats, startResendServer } from '../support/resend-server'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let server: ResendServer
let resend: Resend

const email = (n = 1, to: string | string[] = 'reader@example.com'): CreateEmailOptions => ({
  from: 'Essays <essays@example.com>',
  to,
  subject: `Essay ${n}`,
  html: `<p>Essay ${n}</p>`,
  text: `Essay ${n}`,
  tags: [{ name: 'kind', value: 'essay' }],
})

const control = async <T>(path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${server.url}/__control/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as T
}
const recorded = async () => (await control<{ emails: AcceptedEmail[] }>('emails')).emails
const stats = () => control<Stats>('stats')

beforeAll(async () => {
  server = await startResendServer()
  resend = new Resend('re_test_123', { baseUrl: server.url })
})
afterAll(() => server.close())
beforeEach(() => server.reset())

describe('sending one email', () => {
  it('accepts it, answers with an id and lists it', async () => {
    const { data, error } = await resend.emails.send(email())
    expect(error).toBeNull()
    expect(data?.id).toMatch(UUID)
    const [only, ...rest] = await recorded()
    expect(rest).toEqual([])
    expect(only).toMatchObject({ id: data?.id, batch: false })
    // The SDK's single `to` string is recorded as a list, as Resend stores it.
    expect(only?.email).toEqual({ ...email(), to: ['reader@example.com'] })
    expect(server.accepted()).toEqual([only])
  })

  it('refuses a missing `to` with a 422 that names the field', async () => {
    const { to: _, ...noTo } = email() as CreateEmailOptions & { to: unknown }
    const { data, error } = await resend.emails.send(noTo as CreateEmailOptions)
    expect(data).toBeNull()
    expect(error).toEqual({ statusCode: 422, name: 'validation_error', message: 'Missing `to` field.' })
    expect(await recorded()).toEqual([])
  })

  it('refuses more than 50 recipients', async () => {
    const to = Array.from({ length: 51 }, (_, i) => `r${i}@example.com`)
    const { error } = await resend.emails.send(email(1, to))
    expect(error).toMatchObject({ statusCode: 422, name: 'validation_error' })
    expect(error?.message).toContain('`to`')
  })

  it('answers 401 without an API key and 403 for a key that is not a Resend key', async () => {
    // The SDK cannot be built without a key (it throws), so the bare request goes through fetch.
    const res = await fetch(`${server.url}/emails`, { method: 'POST', body: JSON.stringify(email()) })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(await res.json()).toEqual({
      statusCode: 401,
      name: 'missing_api_key',
      message: 'Missing API key in the authorization header.',
    })
    const { error } = await new Resend('sk_wrong', { baseUrl: server.url }).emails.send(email())
    expect(error).toEqual({ statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid' })
    expect(await recorded()).toEqual([])
  })

  it('answers 400 to a body that is not JSON, 413 over 5 MB and 404 off the API', async () => {
    const post = (path: string, body: string) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: 'Bearer re_x' }, body })
    const bad = await post('/emails', '{nope')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ statusCode: 400, name: 'invalid_request' })
    expect((await post('/emails', 'x'.repeat(5 * 1024 * 1024 + 1))).status).toBe(413)
    const missing = await post('/domains', '{}')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ statusCode: 404, name: 'not_found' })
  })
})

describe('sending a batch', () => {
  it('accepts 3 emails and answers with 3 ids in order', async () => {
    const { data, error } = await resend.batch.send([email(1), email(2), email(3)])
    expect(error).toBeNull()
    const ids = data?.data.map((d) => d.id) ?? []
    expect(ids).toHaveLength(3)
    const emails = await recorded()
    expect(emails.map((e) => e.id)).toEqual(ids)
    expect(emails.map((e) => e.email.subject)).toEqual(['Essay 1', 'Essay 2', 'Essay 3'])
    expect(emails.every((e) => e.batch)).toBe(true)
  })

  it('refuses 101 emails', async () => {
    const { data, error } = await resend.batch.send(Array.from({ length: 101 }, (_, i) => email(i)))
    expect(data).toBeNull()
    expect(error).toMatchObject({ statusCode: 422, name: 'validation_error' })
    expect(error?.message).toContain('100')
    expect(await recorded()).toEqual([])
  })

  it('refuses the whole batch when one email is invalid, unless validation is permissive', async () => {
    const batch = [email(1), { ...email(2), from: '' }, email(3)]
    const strict = await resend.batch.send(batch)
    expect(strict.error).toMatchObject({ statusCode: 422, message: 'emails[1]: Invalid `from` field.' })
    expect(await recorded()).toEqual([])
    const permissive = await resend.batch.send(batch, { batchValidation: 'permissive' })
    expect(permissive.data?.data).toHaveLength(2)
    expect(permissive.data?.errors).toEqual([{ index: 1, message: 'Invalid `from` field.' }])
    expect((await recorded()).map((e) => e.email.subject)).toEqual(['Essay 1', 'Essay 3'])
  })
})

describe('idempotency keys', () => {
  it('replays the first answer for a repeat and records the email once', async () => {
    const first = await resend.emails.send(email(), { idempotencyKey: 'welcome/1' })
    const again = await resend.emails.send(email(), { idempotencyKey: 'welcome/1' })
    expect(first.data?.id).toMatch(UUID)
    expect(again.data).toEqual(first.data)
    const emails = await recorded()
    expect(emails).toHaveLength(1)
    expect(emails[0]?.idempotencyKey).toBe('welcome/1')

    const batch = await resend.batch.send([email(1), email(2)], { idempotencyKey: 'digest/1' })
    const batchAgain = await resend.batch.send([email(1), email(2)], { idempotencyKey: 'digest/1' })
    expect(batchAgain.data).toEqual(batch.data)
    expect(await recorded()).toHaveLength(3)
  })

  it('answers 409 to the same key with a different body', async () => {
    await resend.emails.send(email(1), { idempotencyKey: 'k' })
    const { data, error } = await resend.emails.send(email(2), { idempotencyKey: 'k' })
    expect(data).toBeNull()
    expect(error).toMatchObject({ statusCode: 409, name: 'invalid_idempotent_request' })
    expect(await recorded()).toHaveLength(1)
  })

  it('refuses a key longer than 256 characters', async () => {
    const { error } = await resend.emails.send(email(), { idempotencyKey: 'k'.repeat(257) })
    expect(error).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' })
  })
})

describe('faults', () => {
  it('with rate429: 1 answers every send with rate_limit_exceeded and a retry-after header', async () => {
    await control('faults', { rate429: 1, retryAfterSeconds: 7 })
    for (const send of [() => resend.emails.send(email()), () => resend.batch.send([email()])]) {
      const { data, error, headers } = await send()
      expect(data).toBeNull()
      expect(error).toEqual({ statusCode: 429, name: 'rate_limit_exceeded', message: expect.any(String) })
      // The SDK hands back the response headers as a plain object with lower-case names.
      expect(headers?.['retry-after']).toBe('7')
    }
    expect(await recorded()).toEqual([])
    expect(await stats()).toEqual({ requests: 2, accepted: 0, byStatus: { 429: 2 }, dropped: 0, acceptedByType: {} })
  })

  it('with rateDrop: 1 and dropAfterAccept records the email, and a keyed retry gets its id back', async () => {
    await control('faults', { rateDrop: 1, dropAfterAccept: true })
    const lost = await resend.emails.send(email(), { idempotencyKey: 'lost/1' })
    // A cut connection makes fetch throw; the SDK turns that into an error with no status and no headers.
    expect(lost).toEqual({
      data: null,
      error: {
        name: 'application_error',
        statusCode: null,
        message: 'Unable to fetch data. The request could not be resolved.',
      },
      headers: null,
    })
    const [sent, ...rest] = await recorded()
    expect(rest).toEqual([])
    expect(sent?.idempotencyKey).toBe('lost/1')

    server.setFaults({})
    const retry = await resend.emails.send(email(), { idempotencyKey: 'lost/1' })
    expect(retry.data).toEqual({ id: sent?.id })
    expect(await recorded()).toHaveLength(1)
    expect(await stats()).toMatchObject({ requests: 2, accepted: 1, byStatus: { 200: 1 }, dropped: 1 })
  })

  it('with rateDrop: 1 alone records nothing', async () => {
    server.setFaults({ rateDrop: 1 })
    const { error } = await resend.emails.send(email(), { idempotencyKey: 'gone/1' })
    expect(error).toMatchObject({ name: 'application_error', statusCode: null })
    expect(await recorded()).toEqual([])
    server.setFaults({})
    expect((await resend.emails.send(email(), { idempotencyKey: 'gone/1' })).data?.id).toMatch(UUID)
  })

  it('draws the same outcomes again for the same seed', async () => {
    const outcomes = async () => {
      server.setFaults({ rate500: 0.5, seed: 42 })
      const statuses: (number | null)[] = []
      for (let i = 0; i < 12; i++) statuses.push((await resend.emails.send(email(i))).error?.statusCode ?? 200)
      return statuses
    }
    const first = await outcomes()
    expect(first).toContain(500)
    expect(first).toContain(200)
    expect(await outcomes()).toEqual(first)
  })

  it('with ratePerSecond answers 429 once a second holds more requests than that', async () => {
    server.setFaults({ ratePerSecond: 2 })
    // Five at once can straddle at most one second boundary, so some second still gets 3 or more.
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => resend.emails.send(email(i))))
    const limited = results.filter((r) => r.error?.name === 'rate_limit_exceeded')
    expect(limited.length).toBeGreaterThanOrEqual(1)
    expect(limited[0]?.headers?.['retry-after']).toBe('1')
  })
})

describe('reset', () => {
  it('clears emails, idempotency keys, faults and stats', async () => {
    await resend.emails.send(email(1), { idempotencyKey: 'once' })
    await control('faults', { rate500: 1 })
    expect((await resend.emails.send(email(2))).error?.statusCode).toBe(500)

    expect(await control('reset', {})).toEqual({ ok: true })
    expect(await recorded()).toEqual([])
    expect(await stats()).toEqual({ requests: 0, accepted: 0, byStatus: {}, dropped: 0, acceptedByType: {} })
    // A different body under the old key would be a 409 had the key survived, or a 500 had the fault.
    const { data, error } = await resend.emails.send(email(3), { idempotencyKey: 'once' })
    expect(error).toBeNull()
    expect(server.accepted().map((e) => e.id)).toEqual([data?.id])
  })
})

describe('the sent log', () => {
  it("remembers each accepted email's id, recipients and tags as Resend's webhooks echo them, in order", async () => {
    const one = await resend.emails.send(email(1))
    const batch = await resend.batch.send([email(2, 'b@example.com'), email(3, ['c@example.com', 'd@example.com'])])
    // Refused and replayed requests add nothing: the log holds what was accepted, once.
    await resend.emails.send({ ...email(4), to: [] })
    await resend.emails.send(email(1), { idempotencyKey: 'k' })
    await resend.emails.send(email(1), { idempotencyKey: 'k' })
    const ids = [one.data?.id, ...(batch.data?.data.map((d) => d.id) ?? [])]
    const log = server.sentLog()
    expect(log.map((r) => r.id)).toEqual([...ids, server.accepted()[3]?.id])
    expect(log[0]).toEqual({
      id: ids[0],
      receivedAt: expect.any(Number),
      from: 'Essays <essays@example.com>',
      to: ['reader@example.com'],
      subject: 'Essay 1',
      tags: { kind: 'essay' },
    })
    expect(log[2]?.to).toEqual(['c@example.com', 'd@example.com'])
    expect(server.sentLog(3).map((r) => r.subject)).toEqual(['Essay 1'])
    expect(server.stats().accepted).toBe(4)
  })

  it('keeps counting without the whole emails when told not to keep them', async () => {
    const lean = await startResendServer({ keepEmails: false })
    try {
      const client = new Resend('re_test_123', { baseUrl: lean.url })
      await client.batch.send([email(1), email(2)])
      expect(lean.accepted()).toEqual([])
      expect(lean.stats()).toMatchObject({ accepted: 2, acceptedByType: { untagged: 2 } })
      expect(lean.sentLog().map((r) => r.subject)).toEqual(['Essay 1', 'Essay 2'])
      lean.reset()
      expect(lean.sentLog()).toEqual([])
    } finally {
      await lean.close()
    }
  })
})
