/**
 * One rule per field, whatever the door: what the signup form refuses, the CSV import and the
 * Referer fallback refuse (or drop) too. And one error shape, whatever the endpoint.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { consentText, get, publish, signup, subscriberByEmail } from './helpers'
import { deliver, providerEvent } from './support/resend-webhook'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const auth = { Authorization: `Bearer ${TOKEN}` }
const build = inject('siteBuild')
const consent = consentText(build)

const importCsv = (csv: string) =>
  get(
    '/api/admin/subscribers/import',
    { method: 'POST', headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv },
    admin,
  )

beforeAll(async () => {
  await publish(build)
})

describe('a CSV import', () => {
  const quoted = (s: string) => `"${s.replaceAll('"', '""')}"`
  it.each([
    ['a line break', 'Ann\r\nBcc: victim@example.com'],
    ['a NUL', 'Ann\u0000'],
    ['a bidi override', 'Ann\u202Egnp.exe'],
    ['markup', '<img src=x onerror=alert(1)>'],
  ])('refuses a first name with %s, as the signup form does, and stores nothing', async (_, name) => {
    const email = `import-${name.length}-${name.charCodeAt(3)}@example.com`
    const form = await signup({ email, name, consent }, { json: true })
    expect(form.status).toBe(400)
    const res = await importCsv(
      `email,first_name,consent_at,consent_text\n${email},${quoted(name)},2026-11-01T10:00:00Z,I agree`,
    )
    expect(res.status).toBe(422)
    const report = (await res.json()) as { taken: number; refused: { line: number; reasons: string[] }[] }
    expect(report.taken).toBe(0)
    expect(report.refused[0]?.reasons.join(' ')).toMatch(/^first_name /)
    expect(await subscriberByEmail(email)).toBeNull()
  })

  it('refuses consent given in the future, and a UTM value with a control character', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString()
    const res = await importCsv(
      [
        'email,consent_at,consent_text,utm_campaign',
        `future@example.com,${tomorrow},I agree,`,
        `tabbed@example.com,2026-11-01T10:00:00Z,I agree,${quoted('spring\u0007')}`,
      ].join('\n'),
    )
    expect(res.status).toBe(422)
    const report = (await res.json()) as { refused: { line: number; reasons: string[] }[] }
    expect(report.refused).toEqual([
      { line: 2, email: 'future@example.com', reasons: ['consent_at must not be in the future'] },
      { line: 3, email: 'tabbed@example.com', reasons: ['utm_campaign must be one line of text'] },
    ])
  })
})

describe("a form signup's Referer", () => {
  it('is kept as the referrer and UTM source when each passes its field rule', async () => {
    const email = 'referer-good@example.com'
    const res = await signup(
      { email, consent },
      { headers: { Referer: 'https://partner.example/post?utm_source=partner&utm_campaign=spring' } },
    )
    expect(res.status).toBe(303)
    const s = await subscriberByEmail(email)
    expect(s).toMatchObject({
      referrer: 'https://partner.example/post?utm_source=partner&utm_campaign=spring',
      utm_source: 'partner',
      utm_campaign: 'spring',
    })
  })

  it('never stores a javascript: referrer or a UTM value with control characters; the signup still counts', async () => {
    const email = 'referer-bad@example.com'
    const res = await signup(
      { email, consent },
      { headers: { Referer: 'javascript:alert(document.cookie)//?utm_campaign=x' } },
    )
    expect(res.status).toBe(303)
    const other = 'referer-bad-utm@example.com'
    await signup(
      { email: other, consent },
      { headers: { Referer: 'https://partner.example/?utm_campaign=a%0D%0Ab&utm_source=%E2%80%AEevil' } },
    )
    const s = await subscriberByEmail(email)
    expect(s?.status).toBe('pending')
    expect(s?.referrer).toBeNull()
    const t = await subscriberByEmail(other)
    expect(t?.status).toBe('pending')
    expect(t?.referrer).toBe('https://partner.example/?utm_campaign=a%0D%0Ab&utm_source=%E2%80%AEevil')
    expect(t?.utm_campaign).toBeNull()
    expect(t?.utm_source).toBeNull()
  })
})

describe('an input that once answered 500', () => {
  it('a test send naming a course called "constructor" is a 400 naming the lesson', async () => {
    for (const course of ['constructor', '__proto__', 'toString']) {
      const res = await get(
        '/api/admin/test-email',
        {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ to: 'me@example.com', email: 'lesson', course }),
        },
        admin,
      )
      expect(res.status, course).toBe(400)
      const body = (await res.json()) as { error: { status: number; fields: Record<string, string> } }
      expect(body.error.status).toBe(400)
      expect(Object.keys(body.error.fields).length, course).toBeGreaterThan(0)
    }
  })
})

describe('a signed provider event that once answered 500', () => {
  /** Rows the webhook writes: receipts, the registry of emails, bounces and complaints. */
  const stored = async () =>
    (
      await env.DB.prepare(
        'SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM emails) + (SELECT count(*) FROM trouble) AS n',
      ).first<{ n: number }>()
    )?.n
  it.each([
    ['a list of numbers', [42]],
    ['an object', { address: 'a@example.com' }],
    ['a list with a list in it', [['a@example.com']]],
  ])('whose "to" is %s is a 400 naming data.to, and nothing is stored', async (_, to) => {
    const before = await stored()
    const res = await deliver(providerEvent('email.delivered', to))
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { status: number; fields: Record<string, string> } }
    expect(error.status).toBe(400)
    expect(Object.keys(error.fields)).toEqual(['data.to'])
    const after = await stored()
    expect(after).toBe(before)
  })

  it('that is not a Resend event at all is a 400', async () => {
    const res = await deliver({ hello: 'world' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not a Resend event/)
  })
})

describe('every refusal', () => {
  type Shape = { error: { status: number; message: string; fields: Record<string, string> } }
  const refusals: [string, string, RequestInit, number][] = [
    [
      'a signup that is not JSON or a form',
      '/api/subscribe',
      { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' },
      415,
    ],
    ['a signup by GET', '/api/subscribe', {}, 405],
    ['the admin API without a token', '/api/admin/subscribers', {}, 401],
    ['the admin API with a bad parameter', '/api/admin/subscribers?limit=9999', { headers: auth }, 400],
    ['the admin API with a field it does not take', '/api/admin/stats?form=1', { headers: auth }, 400],
    [
      'an import that is not CSV',
      '/api/admin/subscribers/import',
      { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' },
      415,
    ],
    ['an unknown subscriber', '/api/admin/subscribers/nope', { headers: auth }, 404],
    ['a provider event without a signature', '/api/webhooks/resend', { method: 'POST', body: '{}' }, 503],
  ]

  it.each(refusals)('has one JSON shape for an API client: %s', async (_, path, init, status) => {
    const headers = { Accept: 'application/json', 'CF-Connecting-IP': '192.0.2.77', ...(init.headers as object) }
    const res = await get(path, { ...init, headers }, admin)
    expect(res.status).toBe(status)
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
    const body = (await res.json()) as Shape
    expect(body.error.status).toBe(status)
    expect(body.error.message.length).toBeGreaterThan(0)
    expect(typeof body.error.fields).toBe('object')
  })

  it('names each bad field of an admin query', async () => {
    const res = await get('/api/admin/subscribers?limit=0&status=gone&emial=x', { headers: auth }, admin)
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as Shape
    expect(Object.keys(error.fields).sort()).toEqual(['emial', 'limit', 'status'])
    expect(error.message).toContain('limit must be 1 to 500')
  })

  it('is a page for a browser', async () => {
    const res = await get('/api/admin/subscribers/nope', { headers: { ...auth, Accept: 'text/html,*/*' } }, admin)
    expect(res.status).toBe(404)
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(await res.text()).toContain('no subscriber with that id')
  })
})

describe('the API reference', () => {
  it('is served at /api/docs from our own origin, with the generated document', async () => {
    const res = await get('/api/docs')
    expect(res.status).toBe(200)
    const html = await res.text()
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] ?? '')
    expect(scripts.length).toBe(2)
    for (const src of [
      ...scripts,
      ...[...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1] ?? ''),
    ]) {
      expect(src.startsWith('/')).toBe(true)
      expect((await get(src)).status, src).toBe(200)
    }
    expect(await (await get(scripts[1] ?? '')).text()).toContain('/api/openapi.json')
    const doc = (await (await get('/api/openapi.json')).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toContain('/api/admin/subscribers.csv')
  })
})
