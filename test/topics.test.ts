import { beforeAll, describe, expect, inject, it } from 'vitest'
import {
  attrsOf,
  consentText,
  cronAt,
  get,
  linkIn,
  mailsTo,
  newsletterConsentText,
  publish,
  signup,
  subscriberByEmail,
  textsOf,
} from './helpers'

const build = inject('siteBuild')
const consent = consentText(build)
const newsletter = newsletterConsentText(build)
const HOUR = 3_600_000

/** The site as a publisher with a reply address publishes it. */
const withReplyTo = structuredClone(build)
withReplyTo.settings.replyTo = 'Spine Health Library <letters@spine-exercises.example.com>'

beforeAll(async () => {
  await publish(withReplyTo)
})

/** Signs up (with the newsletter box ticked or not) and confirms, through the real routes. */
async function confirmed(email: string, o: { newsletter?: boolean } = {}) {
  await signup({ email, consent, timezone: 'Europe/London', ...(o.newsletter ? { newsletter } : {}) })
  const [mail] = await mailsTo(email)
  if (!mail) throw new Error(`no confirmation for ${email}`)
  await get(linkIn(mail, 'confirm'), { method: 'POST' })
  return mail
}

const oneClick = (path: string) =>
  get(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  })

const press = (preferences: string, action: string) =>
  get(preferences, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'CF-Connecting-IP': '203.0.113.9',
      'User-Agent': 'Preferences/1.0',
    },
    body: new URLSearchParams({ action }).toString(),
  })

/** Sends lesson 1 to everyone due, as the cron does, and returns the lesson that reached `email`. */
async function firstLesson(email: string) {
  await cronAt(Date.now() + HOUR)
  const lesson = (await mailsTo(email, 2)).find((m) => m.subject.startsWith('Lesson 1'))
  if (!lesson) throw new Error(`no lesson for ${email}`)
  return lesson
}

describe('the newsletter is a topic of its own, with its own consent', () => {
  it('starts at confirmation when the box was ticked, with its consent evidence', async () => {
    const res = await signup(
      { email: 'both@example.com', consent, newsletter },
      { headers: { 'User-Agent': 'Reader/2.0' }, ip: '198.51.100.7' },
    )
    expect(res.status).toBe(303)
    expect((await subscriberByEmail('both@example.com'))?.newsletter).toBe('pending')
    const [mail] = await mailsTo('both@example.com')
    await get(linkIn(mail as { text: string }, 'confirm'), { method: 'POST' })
    const row = await subscriberByEmail('both@example.com')
    expect(row).toMatchObject({
      status: 'active',
      newsletter: 'active',
      newsletter_consent_text: newsletter,
      newsletter_consent_ip: '198.51.100.7',
      newsletter_consent_user_agent: 'Reader/2.0',
    })
    expect(row?.newsletter_joined_at).toBe(row?.confirmed_at)
  })

  it('never starts without the box', async () => {
    await confirmed('course-only@example.com')
    expect((await subscriberByEmail('course-only@example.com'))?.newsletter).toBe('none')
  })

  it('refuses any other wording for the newsletter, naming the field, and stores nothing', async () => {
    const res = await signup({ email: 'odd@example.com', consent, newsletter: 'yes' }, { json: true })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { fields: Record<string, string> } }
    expect(Object.keys(body.error.fields)).toEqual(['newsletter'])
    expect(await subscriberByEmail('odd@example.com')).toBeNull()
  })

  it('keeps the tick when a form signup is refused for another field', async () => {
    const res = await signup({ email: 'not-an-address', consent, newsletter })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(await attrsOf(html, 'input[name=newsletter][checked]', 'value')).toEqual([newsletter])
  })

  it('is joined from the preferences page with its own evidence, and left there while the course goes on', async () => {
    await confirmed('joiner@example.com')
    const lesson = await firstLesson('joiner@example.com')
    const preferences = linkIn(lesson, 'preferences')
    const page = await (await get(preferences)).text()
    expect(await textsOf(page, 'h2')).toContain(withReplyTo.settings.newsletter?.title)
    expect(page).toContain(newsletter)

    const joined = await press(preferences, 'join-newsletter')
    expect(joined.status).toBe(200)
    expect(await subscriberByEmail('joiner@example.com')).toMatchObject({
      status: 'active',
      newsletter: 'active',
      newsletter_consent_text: newsletter,
      newsletter_consent_ip: '203.0.113.9',
      newsletter_consent_user_agent: 'Preferences/1.0',
    })
    // Joining twice is refused and changes nothing.
    expect((await press(preferences, 'join-newsletter')).status).toBe(409)

    expect((await press(preferences, 'leave-newsletter')).status).toBe(200)
    expect(await subscriberByEmail('joiner@example.com')).toMatchObject({ status: 'active', newsletter: 'left' })
  })

  it('has an "Unsubscribe from everything" button that stops both', async () => {
    await confirmed('all-out@example.com', { newsletter: true })
    const lesson = await firstLesson('all-out@example.com')
    const res = await press(linkIn(lesson, 'preferences'), 'unsubscribe-all')
    expect(res.status).toBe(200)
    expect(await subscriberByEmail('all-out@example.com')).toMatchObject({
      status: 'unsubscribed',
      newsletter: 'left',
      next_send_at: null,
    })
  })

  it('lets a reader who left the course take it again from the preferences page', async () => {
    await confirmed('again@example.com', { newsletter: true })
    const lesson = await firstLesson('again@example.com')
    const preferences = linkIn(lesson, 'preferences')
    expect((await press(preferences, 'leave-course')).status).toBe(200)
    expect(await subscriberByEmail('again@example.com')).toMatchObject({ status: 'unsubscribed', newsletter: 'active' })
    expect((await press(preferences, 'join-course')).status).toBe(200)
    const row = await subscriberByEmail('again@example.com')
    expect(row).toMatchObject({ status: 'active', lesson_position: 0, course_round: 2, newsletter: 'active' })
  })
})

describe('a subscriber already confirmed who ticks the box on a later signup', () => {
  it('is asked to confirm the newsletter alone; confirming starts it and leaves the course as it was', async () => {
    await confirmed('later@example.com')
    await firstLesson('later@example.com')
    const before = await subscriberByEmail('later@example.com')
    await signup({ email: 'later@example.com', consent, newsletter }, { ip: '192.0.2.44' })
    const ask = (await mailsTo('later@example.com', 3)).find((m) => m.subject.startsWith('Please confirm: New essays'))
    if (!ask) throw new Error('no newsletter confirmation')
    expect(ask.text).toContain('Whatever else you receive from us stays as it is')
    expect(await subscriberByEmail('later@example.com')).toMatchObject({
      status: 'active',
      lesson_position: 1,
      course_round: before?.course_round,
      newsletter: 'pending',
      newsletter_consent_ip: '192.0.2.44',
    })
    const prompt = await get(linkIn(ask, 'confirm'))
    expect(await textsOf(await prompt.text(), 'main button')).toEqual(['Yes, email me new essays'])
    const res = await get(linkIn(ask, 'confirm'), { method: 'POST' })
    expect(res.status).toBe(200)
    expect(await textsOf(await res.text(), 'h1')).toEqual(['You will get the new essays'])
    const after = await subscriberByEmail('later@example.com')
    expect(after).toMatchObject({ status: 'active', lesson_position: 1, newsletter: 'active' })
    expect(after?.next_send_at).toBe(before?.next_send_at)
    // Its one-click, had they used it, would have left only the newsletter's request.
    expect(ask.headers['List-Unsubscribe']).toBeDefined()
  })

  it('without the box gets nothing, as before', async () => {
    await confirmed('no-box@example.com')
    await signup({ email: 'no-box@example.com', consent })
    expect(await mailsTo('no-box@example.com')).toHaveLength(1)
    expect((await subscriberByEmail('no-box@example.com'))?.newsletter).toBe('none')
  })
})

describe('the one-click unsubscribe leaves the topic of its email', () => {
  it("a lesson's leaves the course; the newsletter goes on", async () => {
    await confirmed('lesson-leaver@example.com', { newsletter: true })
    const lesson = await firstLesson('lesson-leaver@example.com')
    expect((await oneClick(linkIn(lesson, 'unsubscribe'))).status).toBe(200)
    expect(await subscriberByEmail('lesson-leaver@example.com')).toMatchObject({
      status: 'unsubscribed',
      newsletter: 'active',
    })
    // The page says what stopped and that the rest goes on.
    const page = await (await get(linkIn(lesson, 'unsubscribe'))).text()
    expect(page).toContain(build.settings.courses['cure-back-pain-program']?.title)
  })

  it("the confirmation's leaves everything", async () => {
    await signup({ email: 'never-mind@example.com', consent, newsletter })
    const [mail] = await mailsTo('never-mind@example.com')
    expect((await oneClick(linkIn(mail as { text: string }, 'unsubscribe'))).status).toBe(200)
    expect(await subscriberByEmail('never-mind@example.com')).toMatchObject({
      status: 'unsubscribed',
      newsletter: 'left',
    })
  })
})

describe("each topic's emails name their list", () => {
  it('a lesson carries the course List-Id, and List-Unsubscribe offers the reply address too', async () => {
    await confirmed('headers@example.com')
    const lesson = await firstLesson('headers@example.com')
    const host = new URL(build.settings.baseUrl).hostname
    expect(lesson.headers['List-Id']).toBe(`"The cure back pain program" <cure-back-pain-program.${host}>`)
    const unsubscribe = lesson.headers['List-Unsubscribe'] ?? ''
    expect(unsubscribe).toMatch(
      /^<https?:\/\/[^>]+\/unsubscribe\/[^>]+>, <mailto:letters@spine-exercises\.example\.com\?subject=unsubscribe%20[^>]+>$/,
    )
    expect(lesson.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    expect(lesson.headers['Reply-To']).toBe(withReplyTo.settings.replyTo)
  })
})

describe('bad input on the preferences page', () => {
  it('names an unknown action and changes nothing', async () => {
    await confirmed('bad-action@example.com', { newsletter: true })
    const lesson = await firstLesson('bad-action@example.com')
    const res = await press(linkIn(lesson, 'preferences'), 'leave-everything')
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('action must be one of')
    expect(await subscriberByEmail('bad-action@example.com')).toMatchObject({ status: 'active', newsletter: 'active' })
  })
})
