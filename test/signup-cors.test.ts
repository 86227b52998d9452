import { beforeAll, describe, expect, inject, it } from 'vitest'
import { consentText, get, nextIp, publishWithPartner, subscriberByEmail } from './helpers'

const PARTNER = 'https://partner.example'
const consent = consentText(inject('siteBuild'))

beforeAll(async () => {
  await publishWithPartner(inject('siteBuild'), PARTNER)
})

const preflight = (origin: string) =>
  get('/api/subscribe', {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    },
  })

const post = (origin: string, email: string) =>
  get('/api/subscribe', {
    method: 'POST',
    headers: { Origin: origin, 'Content-Type': 'application/json', 'CF-Connecting-IP': nextIp() },
    body: JSON.stringify({ email, consent, source: 'partner' }),
  })

describe('a signup form on a partner site', () => {
  it('gets its preflight answered and may post', async () => {
    const pre = await preflight(PARTNER)
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(PARTNER)
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    const res = await post(PARTNER, 'partner-reader@example.com')
    expect(res.status).toBe(202)
    expect(res.headers.get('access-control-allow-origin')).toBe(PARTNER)
    expect((await subscriberByEmail('partner-reader@example.com'))?.source).toBe('partner')
  })
})

describe('a signup form on a site that is not listed', () => {
  it('is refused at the preflight and at the post with 403 naming the origin, and nothing is stored', async () => {
    const pre = await preflight('https://elsewhere.example')
    expect(pre.status).toBe(403)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    const res = await post('https://elsewhere.example', 'elsewhere@example.com')
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('https://elsewhere.example')
    expect(await subscriberByEmail('elsewhere@example.com')).toBeNull()
  })

  it('does not stop the site’s own forms, nor tools that send no Origin', async () => {
    expect((await post('http://localhost', 'own-form@example.com')).status).toBe(202)
    const tool = await get('/api/subscribe', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': nextIp() },
      body: JSON.stringify({ email: 'tool@example.com', consent }),
    })
    expect(tool.status).toBe(202)
  })
})
