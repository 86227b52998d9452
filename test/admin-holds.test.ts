import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { get, nextIp, publish } from './helpers'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }

/** Signs in to the dashboard from one client IP; returns the answer. */
const signIn = (token: string, ip: string, bindings = admin) =>
  get(
    '/admin/sign-in',
    {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': ip },
      body: new URLSearchParams({ token }).toString(),
    },
    bindings,
  )
const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
const page = (path: string, cookie: string) => get(path, { redirect: 'manual', headers: { Cookie: cookie } }, admin)

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

describe('signing out', () => {
  it('ends the session: a copy of the cookie opens nothing afterwards', async () => {
    const cookie = cookieOf(await signIn(TOKEN, nextIp()))
    expect((await page('/admin', cookie)).status).toBe(200)
    const out = await get('/admin/sign-out', { method: 'POST', redirect: 'manual', headers: { Cookie: cookie } }, admin)
    expect(out.status).toBe(303)
    const copied = await page('/admin', cookie)
    expect(copied.status).toBe(303)
    expect(copied.headers.get('location')).toBe('/admin/sign-in')
  })

  it('leaves other sessions open', async () => {
    const one = cookieOf(await signIn(TOKEN, nextIp()))
    const two = cookieOf(await signIn(TOKEN, nextIp()))
    await get('/admin/sign-out', { method: 'POST', redirect: 'manual', headers: { Cookie: one } }, admin)
    expect((await page('/admin', two)).status).toBe(200)
  })
})

describe('guessing the token', () => {
  it('is turned away with 429 and Retry-After after 5 wrong tokens in 10 minutes, even the right one', async () => {
    const ip = nextIp()
    for (let i = 0; i < 5; i++) expect((await signIn(`wrong-${i}`, ip)).status).toBe(403)
    const sixth = await signIn(TOKEN, ip)
    expect(sixth.status).toBe(429)
    const wait = Number(sixth.headers.get('retry-after'))
    expect(wait).toBeGreaterThan(500)
    expect(wait).toBeLessThanOrEqual(600)
    // Another client is not held back.
    expect((await signIn(TOKEN, nextIp())).status).toBe(303)
  })

  it('through the API too: 403 five times, then 429 with Retry-After in the one error shape', async () => {
    const ip = nextIp()
    const call = (token: string) =>
      get('/api/admin/stats', { headers: { Authorization: `Bearer ${token}`, 'CF-Connecting-IP': ip } }, admin)
    for (let i = 0; i < 5; i++) expect((await call(`wrong-${i}`)).status).toBe(403)
    const res = await call(TOKEN)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await res.json()) as { error: { status: number } }).error.status).toBe(429)
  })

  it('forgets a client’s mistakes once it gives the right token', async () => {
    const ip = nextIp()
    for (let i = 0; i < 4; i++) await signIn(`wrong-${i}`, ip)
    expect((await signIn(TOKEN, ip)).status).toBe(303)
    for (let i = 0; i < 4; i++) expect((await signIn(`wrong-${i}`, ip)).status).toBe(403)
  })
})

describe('a weak admin token', () => {
  const weak: Env = { ...env, ADMIN_TOKEN: 'short-token' }

  it('is refused by the API with 503 saying why', async () => {
    const res = await get('/api/admin/stats', { headers: { Authorization: 'Bearer short-token' } }, weak)
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { message: string } }
    expect(body.error.message).toContain('ADMIN_TOKEN is shorter than 32 characters')
  })

  it('keeps the dashboard closed, saying why', async () => {
    const res = await signIn('short-token', nextIp(), weak)
    expect(res.status).toBe(503)
    expect(await res.text()).toContain('ADMIN_TOKEN is shorter than 32 characters')
  })
})

describe('every admin answer', () => {
  it.each([
    ['GET', '/api/admin/stats', true],
    ['GET', '/api/admin/people/someone@example.com', true],
    ['GET', '/api/admin/broadcasts', true],
    ['GET', '/api/admin/stats?from=yesterday', true],
    ['GET', '/api/admin/stats', false],
    ['GET', '/admin/sign-in', false],
    ['GET', '/admin', false],
  ])('%s %s (token: %s) carries Cache-Control: no-store', async (method, path, withToken) => {
    const res = await get(
      path,
      {
        method,
        redirect: 'manual',
        headers: withToken ? { Authorization: `Bearer ${TOKEN}`, 'CF-Connecting-IP': nextIp() } : {},
      },
      admin,
    )
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})
