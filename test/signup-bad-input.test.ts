import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, consentText, get, nextIp, outbox, publish, signup, subscriberCount, textsOf } from './helpers'

const build = inject('siteBuild')
const consent = consentText(build)
const good = { email: 'good@example.com', consent }

beforeAll(async () => {
  await publish(build)
})

/** Sends a JSON signup and checks it was refused with `status`, naming `field`, and stored nothing. */
async function refused(body: unknown, status: number, field: string, problem?: RegExp) {
  const before = await subscriberCount()
  const mails = (await outbox()).length
  const res = await signup(body as Record<string, unknown>, { json: true })
  expect(res.status).toBe(status)
  const { error } = (await res.json()) as { error: { message: string; fields: Record<string, string> } }
  expect(Object.keys(error.fields)).toContain(field)
  expect(error.message).toContain(field === 'form' ? '' : field)
  if (problem) expect(error.fields[field]).toMatch(problem)
  expect(await subscriberCount()).toBe(before)
  expect((await outbox()).length).toBe(mails)
}

describe('a signup with a bad field is refused with 400, naming the field, and nothing is stored', () => {
  it.each([
    ['missing', { consent }, /required/],
    ['empty', { email: '', consent }, /required/],
    ['not an address', { email: 'not-an-email', consent }, /valid email/],
    ['two addresses', { email: 'a@example.com, b@example.com', consent }, /valid email/],
    ['a header smuggled in', { email: 'a@example.com\r\nBcc: victim@example.com', consent }, /valid email/],
    ['too long', { email: `${'a'.repeat(250)}@example.com`, consent }, /at most 254/],
    ['a number', { email: 42, consent }, /must be text/],
  ])('email: %s', (_, body, problem) => refused(body, 400, 'email', problem))

  it.each([
    ['too long', 'A'.repeat(51), /at most 50/],
    ['HTML', '<b>Anna</b>', /only letters/],
    ['a line break', 'Anna\r\nBcc: victim@example.com', /only letters/],
    ['digits', 'R2D2', /only letters/],
  ])('name: %s', (_, name, problem) => refused({ ...good, name }, 400, 'name', problem))

  it('consent: missing (the box not ticked)', () => refused({ email: 'x@example.com' }, 400, 'consent', /required/))
  it('consent: wording other than the form shows', () =>
    refused({ email: 'x@example.com', consent: 'yes' }, 400, 'consent', /exact consent wording/))
  it('timezone: not a time zone', () =>
    refused({ ...good, timezone: 'Mars/Olympus_Mons' }, 400, 'timezone', /IANA time zone/))
  it('source: characters a source name never has', () => refused({ ...good, source: 'a b<c>' }, 400, 'source'))
  it('utm_campaign: too long', () => refused({ ...good, utm_campaign: 'x'.repeat(201) }, 400, 'utm_campaign', /200/))
  it('utm_source: two lines', () => refused({ ...good, utm_source: 'a\nb' }, 400, 'utm_source', /one line/))
  it('referrer: not a URL', () => refused({ ...good, referrer: 'nowhere' }, 400, 'referrer', /URL/))
  it('landing_path: not a path', () => refused({ ...good, landing_path: 'javascript:alert(1)' }, 400, 'landing_path'))
  it('course: one that does not exist', () => refused({ ...good, course: 'no-such-course' }, 400, 'course'))
  it('an unknown field', () => refused({ ...good, emial: 'typo@example.com' }, 400, 'emial', /not a field/))
  it('the honeypot filled in, as bots do', () => refused({ ...good, website: 'http://spam.example' }, 400, 'website'))
  it('a JSON array instead of an object', () => refused([good], 400, 'form', /JSON object/))
})

describe('a signup the endpoint cannot take', () => {
  const raw = (body: BodyInit, contentType: string) =>
    get('/api/subscribe', {
      method: 'POST',
      headers: { 'Content-Type': contentType, 'CF-Connecting-IP': nextIp() },
      body,
    })

  it('refuses a body that is not JSON with 400', async () => {
    const res = await raw('{"email":', 'application/json')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/JSON object/)
  })

  it('refuses a content type it does not read with 415, naming the ones it does', async () => {
    const res = await raw(JSON.stringify(good), 'text/plain')
    expect(res.status).toBe(415)
    expect(await res.text()).toContain('application/json')
  })

  it('refuses a body over 16 KB with 413', async () => {
    const before = await subscriberCount()
    const res = await raw(JSON.stringify({ ...good, name: 'x'.repeat(20_000) }), 'application/json')
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/larger than 16 KB/)
    expect(await subscriberCount()).toBe(before)
  })

  it('refuses the 11th signup in a minute from one IP with 429 and Retry-After', async () => {
    const ip = nextIp()
    // The limit counts per minute of the clock: ten go through, the next is refused, unless the
    // minute turned in between (then the next ten go through first). 21 tries always meet a 429.
    let res: Response | undefined
    let accepted = 0
    for (let i = 0; i < 21; i++) {
      res = await signup({ email: `burst${i}@example.com`, consent }, { json: true, ip })
      if (res.status !== 202) break
      accepted += 1
    }
    expect(accepted).toBeGreaterThanOrEqual(10)
    expect(accepted).toBeLessThanOrEqual(20)
    const refused = `burst${accepted}@example.com`
    if (!res) throw new Error('no answer')
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('60')
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/too many signups/)
    const row = await env.DB.prepare('SELECT 1 FROM subscribers WHERE email = ?').bind(refused).first()
    expect(row).toBeNull()
    expect((await signup({ email: 'burst11@example.com', consent }, { json: true })).status).toBe(202)
  })

  it('refuses GET and other methods on the endpoint with 405, saying POST is allowed', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get('/api/subscribe', { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
    }
  })
})

describe('a person whose form signup is refused', () => {
  it('sees the form again with the error beside the field and what they typed', async () => {
    const res = await signup({ email: 'not-an-email', name: 'Anna', consent })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(await textsOf(html, '#signup-email-error')).toEqual(['must be a valid email address'])
    expect(await attrsOf(html, '#signup-email', 'aria-describedby')).toEqual(['signup-email-error'])
    expect(await attrsOf(html, '#signup-email', 'value')).toEqual(['not-an-email'])
    expect(await attrsOf(html, '#signup-name', 'value')).toEqual(['Anna'])
  })

  it('never gets what they typed back unescaped', async () => {
    const res = await signup({ email: '"><script>alert(1)</script>', consent })
    const html = await res.text()
    expect(html).not.toContain('<script>alert(1)')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })
})

describe('a refused form signup, tried again', () => {
  it('keeps where the reader came from in the form, and names a problem with a field they cannot see', async () => {
    const res = await signup({
      email: 'not-an-email',
      consent,
      source: 'essay-end',
      landing_path: '/back-pain/back-exercises/spine-exercises',
      utm_source: 'newsletter',
      utm_campaign: 'x'.repeat(300),
      timezone: 'Europe/Berlin',
    })
    expect(res.status).toBe(400)
    const html = await res.text()
    const hidden = async (name: string) => (await attrsOf(html, `form.signup input[name="${name}"]`, 'value'))[0]
    expect(await hidden('source')).toBe('essay-end')
    expect(await hidden('landing_path')).toBe('/back-pain/back-exercises/spine-exercises')
    expect(await hidden('utm_source')).toBe('newsletter')
    expect(await hidden('timezone')).toBe('Europe/Berlin')
    expect(await hidden('utm_campaign')).toBe('')
    expect((await textsOf(html, 'p.notice.error')).join(' ')).toContain('utm_campaign must be at most 200 characters')
  })
})
