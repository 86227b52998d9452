import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { localTime, zonedTime } from '../src/lib/schedule'
import { signToken } from '../src/lib/tokens'
import { attrsOf, consentText, get, linkIn, mailsTo, publish, signup, subscriberByEmail, textsOf } from './helpers'

const build = inject('siteBuild')
const consent = consentText(build)
const key = env.SIGNING_KEY ?? ''

beforeAll(async () => {
  await publish(build)
})

/** Signs up an address and returns its row and the links of its confirmation email. */
async function pendingSubscriber(email: string) {
  await signup({ email, consent, name: 'Sam' }, { json: true })
  const [mail] = await mailsTo(email)
  if (!mail) throw new Error(`no confirmation email to ${email}`)
  const row = await subscriberByEmail(email)
  return { id: row?.id ?? '', confirm: linkIn(mail, 'confirm'), unsubscribe: linkIn(mail, 'unsubscribe') }
}

async function activeSubscriber(email: string) {
  const s = await pendingSubscriber(email)
  await get(s.confirm, { method: 'POST' })
  const preferences = `/preferences/${await signToken(key, 'preferences', s.id, { now: Date.now() })}`
  return { ...s, preferences }
}

const statusOf = async (email: string) => (await subscriberByEmail(email))?.status

describe('a link that was tampered with, expired, or made for another page', () => {
  it.each([
    ['cut short', (t: string) => t.slice(0, 20), 400],
    ['with its signature altered', (t: string) => `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`, 403],
    [
      'with another subscriber id but the old signature',
      (t: string) => `${btoa('{"p":"confirm","s":"someone-else"}').replace(/=+$/, '')}.${t.split('.')[1]}`,
      403,
    ],
    [
      'with only the unused bits of its last character changed',
      (t: string) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
        return `${t.slice(0, -1)}${alphabet[alphabet.indexOf(t.slice(-1)) ^ 1]}`
      },
      400,
    ],
    ['made up', () => 'not-a-token', 400],
  ])('is refused when %s, and changes nothing', async (_, mangle, status) => {
    const email = `tamper-${status}-${Math.random()}@example.com`
    const s = await pendingSubscriber(email)
    const token = s.confirm.split('/').pop() ?? ''
    const res = await get(`/confirm/${mangle(token)}`, { method: 'POST' })
    expect(res.status).toBe(status)
    expect(await textsOf(await res.text(), 'h1')).toEqual(['This link does not work'])
    expect(await statusOf(email)).toBe('pending')
  })

  it('refuses a confirm link older than 7 days', async () => {
    const s = await pendingSubscriber('late@example.com')
    const eightDaysAgo = Date.now() - 8 * 86_400_000
    const old = await signToken(key, 'confirm', s.id, { now: eightDaysAgo, ttlSeconds: 7 * 86_400 })
    const res = await get(`/confirm/${old}`, { method: 'POST' })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('expired')
    expect(await statusOf('late@example.com')).toBe('pending')
  })

  it('refuses an unsubscribe token used to confirm, and a confirm token used to unsubscribe', async () => {
    const s = await pendingSubscriber('purpose@example.com')
    const unsubToken = s.unsubscribe.split('/').pop()
    const confirmToken = s.confirm.split('/').pop()
    expect((await get(`/confirm/${unsubToken}`, { method: 'POST' })).status).toBe(403)
    expect((await get(`/unsubscribe/${confirmToken}`, { method: 'POST' })).status).toBe(403)
    expect(await statusOf('purpose@example.com')).toBe('pending')
  })
})

describe('confirming', () => {
  it('shows a page on GET and changes nothing, because mail scanners follow links', async () => {
    const s = await pendingSubscriber('scanner@example.com')
    for (let i = 0; i < 3; i++) expect((await get(s.confirm)).status).toBe(200)
    expect(await statusOf('scanner@example.com')).toBe('pending')
  })

  it('is idempotent: a second press keeps the subscriber active and the first lesson time', async () => {
    const s = await pendingSubscriber('twice@example.com')
    await get(s.confirm, { method: 'POST' })
    const first = await subscriberByEmail('twice@example.com')
    const again = await get(s.confirm, { method: 'POST' })
    expect(again.status).toBe(200)
    expect(await textsOf(await again.text(), 'h1')).toEqual(['You have already confirmed'])
    expect(await subscriberByEmail('twice@example.com')).toEqual(first)
  })

  it('tells a reader who confirmed long ago what is true, not that lesson 1 is on its way', async () => {
    const s = await pendingSubscriber('later@example.com')
    await get(s.confirm, { method: 'POST' })
    await env.DB.prepare('UPDATE subscribers SET lesson_position = 2 WHERE id = ?').bind(s.id).run()
    const midway = await (await get(s.confirm)).text()
    expect(await textsOf(midway, 'h1')).toEqual(['You have already confirmed'])
    expect(midway).toContain('have had 2 lessons')
    expect(midway).not.toContain('Lesson 1')

    await env.DB.prepare("UPDATE subscribers SET status = 'completed', lesson_position = 5 WHERE id = ?")
      .bind(s.id)
      .run()
    const finished = await (await get(s.confirm, { method: 'POST' })).text()
    expect(await textsOf(finished, 'h1')).toEqual(['You have finished the course'])
    expect(finished).not.toMatch(/on its way/i)
    expect(await statusOf('later@example.com')).toBe('completed')
  })

  it('does not bring back an address that unsubscribed', async () => {
    const s = await pendingSubscriber('gone@example.com')
    await get(s.unsubscribe, { method: 'POST' })
    const res = await get(s.confirm, { method: 'POST' })
    expect(await textsOf(await res.text(), 'h1')).toEqual(['This subscription has ended'])
    expect(await statusOf('gone@example.com')).toBe('unsubscribed')
  })
})

describe('unsubscribing', () => {
  it('shows a button on GET without unsubscribing, and unsubscribes on POST', async () => {
    const s = await activeSubscriber('button@example.com')
    const page = await get(s.unsubscribe)
    expect(await textsOf(await page.text(), 'main form button')).toEqual(['Unsubscribe me'])
    expect(await statusOf('button@example.com')).toBe('active')
    await get(s.unsubscribe, { method: 'POST' })
    expect(await statusOf('button@example.com')).toBe('unsubscribed')
  })
})

describe('the preferences page', () => {
  const act = (path: string, fields: Record<string, string>) =>
    get(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })

  it('pauses and resumes the course', async () => {
    const s = await activeSubscriber('pause@example.com')
    expect((await act(s.preferences, { action: 'pause' })).status).toBe(200)
    expect(await statusOf('pause@example.com')).toBe('paused')
    const page = await (await get(s.preferences)).text()
    expect(await attrsOf(page, 'input[name="action"]', 'value')).toContain('resume')
    await act(s.preferences, { action: 'resume' })
    const row = await subscriberByEmail('pause@example.com')
    expect(row?.status).toBe('active')
    expect(row?.next_send_at as number).toBeLessThanOrEqual(Date.now())
  })

  it('changes the first name and the time zone', async () => {
    const s = await activeSubscriber('details@example.com')
    const res = await act(s.preferences, { action: 'save', name: 'Samantha', timezone: 'Pacific/Auckland' })
    expect(await textsOf(await res.text(), '.notice')).toEqual(['Your details are saved.'])
    expect(await subscriberByEmail('details@example.com')).toMatchObject({
      first_name: 'Samantha',
      timezone: 'Pacific/Auckland',
    })
  })

  it('moves the next lesson to the send hour of a new time zone', async () => {
    const s = await activeSubscriber('mover@example.com')
    // Lesson 2 is due at 08:00 in Los Angeles on a Wednesday a week or so from now.
    const wednesday = new Date(Date.now() + 7 * 86_400_000)
    wednesday.setUTCDate(wednesday.getUTCDate() + ((3 - wednesday.getUTCDay() + 7) % 7))
    const date = { year: wednesday.getUTCFullYear(), month: wednesday.getUTCMonth() + 1, day: wednesday.getUTCDate() }
    const due = zonedTime(date, 8, 'America/Los_Angeles')
    await env.DB.prepare(
      "UPDATE subscribers SET timezone = 'America/Los_Angeles', lesson_position = 1, next_send_at = ? WHERE id = ?",
    )
      .bind(due, s.id)
      .run()
    await act(s.preferences, { action: 'save', timezone: 'Pacific/Auckland' })
    const moved = (await subscriberByEmail('mover@example.com'))?.next_send_at as number
    expect(localTime(moved, 'Pacific/Auckland')).toMatchObject({ ...date, hour: 8, minute: 0 })
    // Saving again in the same zone leaves it where it is.
    await act(s.preferences, { action: 'save', name: 'Mo', timezone: 'Pacific/Auckland' })
    expect((await subscriberByEmail('mover@example.com'))?.next_send_at).toBe(moved)
  })

  it('restarts the course from lesson 1', async () => {
    const s = await activeSubscriber('restart@example.com')
    await env.DB.prepare("UPDATE subscribers SET lesson_position = 5, status = 'completed' WHERE id = ?")
      .bind(s.id)
      .run()
    await act(s.preferences, { action: 'restart' })
    expect(await subscriberByEmail('restart@example.com')).toMatchObject({ status: 'active', lesson_position: 0 })
  })

  it('refuses a bad time zone or action with 400 and a message, changing nothing', async () => {
    const s = await activeSubscriber('badprefs@example.com')
    const before = await subscriberByEmail('badprefs@example.com')
    const tz = await act(s.preferences, { action: 'save', timezone: 'Nowhere/Special' })
    expect(tz.status).toBe(400)
    expect(await textsOf(await tz.text(), '.notice.error')).toEqual([expect.stringContaining('timezone')])
    const action = await act(s.preferences, { action: 'delete-everything' })
    expect(action.status).toBe(400)
    const name = await act(s.preferences, { action: 'save', name: '<img src=x onerror=alert(1)>' })
    expect(name.status).toBe(400)
    expect(await name.text()).not.toContain('<img src=x')
    expect(await subscriberByEmail('badprefs@example.com')).toEqual(before)
  })

  it('says so when an action does not apply, such as resuming a course that is not paused', async () => {
    const s = await activeSubscriber('notpaused@example.com')
    const res = await act(s.preferences, { action: 'resume' })
    expect(res.status).toBe(409)
    expect(await statusOf('notpaused@example.com')).toBe('active')
  })
})

describe('every link endpoint refuses a link that is not its own', () => {
  it.each([
    ['GET', '/unsubscribe'],
    ['POST', '/unsubscribe'],
    ['GET', '/preferences'],
    ['POST', '/preferences'],
    ['GET', '/confirm'],
  ])('%s %s with a forged token gets 403 and changes nothing', async (method, base) => {
    const email = `forged-${method}-${base.slice(1)}@example.com`
    const s = await activeSubscriber(email)
    const before = await subscriberByEmail(email)
    const forged = `${btoa(JSON.stringify({ p: base.slice(1), s: s.id })).replace(/=+$/, '')}.${'A'.repeat(43)}`
    const res = await get(`${base}/${forged}`, {
      method,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: method === 'POST' ? 'action=pause&List-Unsubscribe=One-Click' : undefined,
    })
    expect(res.status).toBe(403)
    expect(await textsOf(await res.text(), 'h1')).toEqual(['This link does not work'])
    expect(await subscriberByEmail(email)).toEqual(before)
  })

  it('refuses a body over 4 KB on a link endpoint with 413, changing nothing', async () => {
    const s = await activeSubscriber('bigbody@example.com')
    const res = await get(s.preferences, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `action=pause&name=${'a'.repeat(5000)}`,
    })
    expect(res.status).toBe(413)
    expect(await statusOf('bigbody@example.com')).toBe('active')
  })
})
