import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LessonJob } from '../src/course/dispatch'
import worker from '../src/index'
import {
  consentText,
  get,
  lessonsDrained,
  linkIn,
  mailsTo,
  makeSubscriber,
  publish,
  signup,
  subscriberByEmail,
} from './helpers'
import { resendControl } from './support/resend-control'

const build = inject('siteBuild')
const consent = consentText(build)
const resendUrl = inject('resendUrl')
const HOUR = 3_600_000
const COURSE = 'cure-back-pain-program'

beforeAll(async () => {
  await publish(build)
})

/** Signs up and confirms through the real routes. */
async function confirmed(email: string) {
  await signup({ email, consent, timezone: 'UTC' }, { json: true })
  const mails = await mailsTo(email)
  const confirmation = mails.find((m) => m.subject.startsWith('Please confirm'))
  if (!confirmation) throw new Error(`no confirmation for ${email}`)
  expect((await get(linkIn(confirmation, 'confirm'), { method: 'POST' })).status).toBe(200)
  return (await subscriberByEmail(email))?.id ?? ''
}

async function cronAt(scheduledTime: number) {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime, cron: '*/5 * * * *' }), env, ctx)
  await waitOnExecutionContext(ctx)
  await lessonsDrained()
}

const lessonMails = async (email: string, count: number) =>
  (await mailsTo(email, count)).filter((m) => m.subject.startsWith('Lesson')).map((m) => m.subject.slice(0, 13))

describe('taking the course again', () => {
  it('sends lesson 1 again to a subscriber who restarts the course from the preferences page', async () => {
    const id = await confirmed('again@example.com')
    const start = Math.ceil(Date.now() / HOUR) * HOUR
    await cronAt(start)
    const [lesson1] = (await mailsTo('again@example.com', 2)).filter((m) => m.subject.startsWith('Lesson 1'))
    const restart = await get(linkIn(lesson1 as { text: string }, 'preferences'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=restart',
    })
    expect(restart.status).toBe(200)
    expect(await restart.text()).toContain('lesson 1 is on its way')
    await cronAt(start + HOUR)
    expect(await lessonMails('again@example.com', 3)).toEqual(['Lesson 1 of 5', 'Lesson 1 of 5'])
    const s = await subscriberByEmail('again@example.com')
    expect(s).toMatchObject({ id, status: 'active', lesson_position: 1, course_round: 2, lease_until: null })
  })

  it('sends lesson 1 again to an address that unsubscribed, signed up again and confirmed', async () => {
    await confirmed('returner@example.com')
    const start = Math.ceil(Date.now() / HOUR) * HOUR
    await cronAt(start)
    const lesson1 = (await mailsTo('returner@example.com', 2)).find((m) => m.subject.startsWith('Lesson 1'))
    expect((await get(linkIn(lesson1 as { text: string }, 'unsubscribe'), { method: 'POST' })).status).toBe(200)
    await signup({ email: 'returner@example.com', consent, timezone: 'UTC' }, { json: true })
    const [again] = (await mailsTo('returner@example.com', 3)).filter((m) => m.subject.startsWith('Please confirm'))
    expect((await get(linkIn(again as { text: string }, 'confirm'), { method: 'POST' })).status).toBe(200)
    await cronAt(start + HOUR)
    expect(await lessonMails('returner@example.com', 4)).toEqual(['Lesson 1 of 5', 'Lesson 1 of 5'])
  })
})

/** The Worker with a Resend key, pointed at the local Resend-speaking server. */
const withResend: Env = {
  ...env,
  RESEND_API_KEY: 're_test_not_a_real_key',
  RESEND_BASE_URL: resendUrl,
  MAIL_REQUESTS_PER_SECOND: '1000',
}
const { setFaults, acceptedFor } = resendControl(resendUrl)
afterEach(async () => {
  await setFaults({})
})

/** Runs the LESSONS consumer on one message, as the runtime would. */
async function consumeLessons(job: LessonJob, attempts: number) {
  const batch = createMessageBatch<LessonJob>('spine-exercises-lessons', [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body: job },
  ])
  const ctx = createExecutionContext()
  await worker.queue(batch, withResend)
  await waitOnExecutionContext(ctx)
  return getQueueResult(batch, ctx)
}

describe('a lesson batch retried after the provider failed', () => {
  it.each([
    ['unsubscribed', "status = 'unsubscribed', next_send_at = NULL"],
    ['complained', "status = 'complained', next_send_at = NULL"],
    ['paused', "status = 'paused'"],
  ])('never reaches a subscriber who %s in between, and still reaches the others', async (what, change) => {
    const stays = await makeSubscriber({ email: `stays-${what}@example.com`, lesson_position: 0 })
    const leaves = await makeSubscriber({ email: `leaves-${what}@example.com`, lesson_position: 0 })
    const job: LessonJob = {
      kind: 'lessons',
      course: COURSE,
      pairs: [stays, leaves].map((subscriberId) => ({ subscriberId, round: 1, lesson: 1 })),
      dispatchedAt: Date.now(),
    }
    await setFaults({ rate500: 1 })
    expect((await consumeLessons(job, 1)).retryMessages).toHaveLength(1)
    await env.DB.prepare(`UPDATE subscribers SET ${change} WHERE id = ?`).bind(leaves).run()
    await setFaults({})
    expect((await consumeLessons(job, 2)).explicitAcks).toHaveLength(1)
    expect(await acceptedFor(`stays-${what}@example.com`)).toHaveLength(1)
    expect(await acceptedFor(`leaves-${what}@example.com`)).toEqual([])
    const left = await env.DB.prepare('SELECT lesson_position, lease_until FROM subscribers WHERE id = ?')
      .bind(leaves)
      .first()
    expect(left).toEqual({ lesson_position: 0, lease_until: null })
    const rows = await env.DB.prepare('SELECT subscriber_id, status FROM deliveries WHERE subscriber_id IN (?, ?)')
      .bind(stays, leaves)
      .all()
    expect(rows.results).toEqual([{ subscriber_id: stays, status: 'sent' }])
  })
})

describe('a subscriber due a lesson past the end of the course', () => {
  it('is completed with the closing email, and the rest of the batch gets its lessons', async () => {
    const past = await makeSubscriber({ email: 'past-the-end@example.com', lesson_position: 5 })
    const fine = await makeSubscriber({ email: 'in-the-middle@example.com', lesson_position: 2 })
    const job: LessonJob = {
      kind: 'lessons',
      course: COURSE,
      pairs: [
        { subscriberId: past, round: 1, lesson: 6 },
        { subscriberId: fine, round: 1, lesson: 3 },
      ],
      dispatchedAt: Date.now(),
    }
    expect((await consumeLessons(job, 1)).explicitAcks).toHaveLength(1)
    expect((await acceptedFor('in-the-middle@example.com')).map((e) => e.email.subject)).toEqual([
      expect.stringMatching(/^Lesson 3 of 5/),
    ])
    expect((await subscriberByEmail('past-the-end@example.com'))?.status).toBe('completed')
    expect(await acceptedFor('past-the-end@example.com')).toEqual([])
    // The closing email goes through the MAIL queue, which this test runtime sends to the outbox.
    expect((await mailsTo('past-the-end@example.com')).map((m) => m.subject)).toEqual([
      expect.stringMatching(/^You have finished/),
    ])
  })
})

describe('the last lesson, when its closing email cannot be queued', () => {
  it('is sent once, and the cron relay hands the closing email over later, once', async () => {
    const id = await makeSubscriber({ email: 'last-one@example.com', lesson_position: 4 })
    const job: LessonJob = {
      kind: 'lessons',
      course: COURSE,
      pairs: [{ subscriberId: id, round: 1, lesson: 5 }],
      dispatchedAt: Date.now(),
    }
    const down = () => Promise.reject(new Error('queue down'))
    const mailQueueDown = { ...withResend, MAIL: { send: down, sendBatch: down } as unknown as Queue }
    const first = createMessageBatch<LessonJob>('spine-exercises-lessons', [
      { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: job },
    ])
    await worker.queue(first, mailQueueDown)
    // The lesson went out and the closing email waits in the outbox: nothing to retry.
    expect((await getQueueResult(first, createExecutionContext())).explicitAcks).toHaveLength(1)
    expect((await subscriberByEmail('last-one@example.com'))?.status).toBe('completed')
    expect(await mailsTo('last-one@example.com', 0)).toEqual([])
    for (const minutes of [2, 7]) {
      const ctx = createExecutionContext()
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + minutes * 60_000 }), env, ctx)
      await waitOnExecutionContext(ctx)
    }
    expect((await acceptedFor('last-one@example.com')).map((e) => e.email.subject)).toEqual([
      expect.stringMatching(/^Lesson 5 of 5/),
    ])
    expect((await mailsTo('last-one@example.com')).map((m) => m.subject)).toEqual([
      expect.stringMatching(/^You have finished/),
    ])
  })
})
