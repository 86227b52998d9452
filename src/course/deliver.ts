import { nextLessonAt } from '../lib/schedule'
import { greeting, listOf, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import { MailerError, type OutgoingEmail } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'
import * as lifecycle from '../subscribers/lifecycle'
import { clickToken, subscriberLinks } from '../subscribers/links'
import { getSubscribers, type Subscriber } from '../subscribers/store'
import type { LessonJob } from './dispatch'
import {
  deliveredStatements,
  deliveriesFor,
  dropPairs,
  getBatch,
  type LessonBatch,
  type LessonPair,
  recordIntent,
} from './store'

/** A job on the MAIL queue: the short closing email after a subscriber's last lesson. */
export interface CompletionJob {
  kind: 'completion'
  subscriberId: string
  /** The batch that sent the last lesson; names this completion for idempotency. */
  batchKey: string
}

/** What delivering lessons needs from the outside world. */
export interface LessonDeps extends MailContext {
  lifecycle: lifecycle.LifecycleDeps
  /** Lesson n (from 1) of a course, compiled; undefined past the last. */
  lesson(course: string, n: number): Promise<EmailTemplate | undefined>
  lessonCount(course: string): number
  /** Hands the jobs a transition left (closing emails, events) to their queue. */
  ring(jobs: lifecycle.OutboxRow[]): Promise<unknown>
}

const pairKey = (p: { subscriberId?: string; subscriber_id?: string; round: number; lesson: number }) =>
  `${p.subscriberId ?? p.subscriber_id}:${p.round}:${p.lesson}`

/** Whether a subscriber, as now stored, is still owed this pair's lesson. */
const stillOwed = (s: Subscriber | undefined, p: LessonPair, course: string): s is Subscriber =>
  s?.status === 'active' && s.course === course && s.course_round === p.round && s.lesson_position === p.lesson - 1

/** The idempotency key of a batch: the same pairs always make the same key. */
async function batchKeyOf(course: string, pairs: LessonPair[]): Promise<string> {
  const text = JSON.stringify([course, pairs.map(pairKey)])
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `lessons-${hex.slice(0, 48)}`
}

/** One date format per language and time zone, made once per isolate (a batch has many readers in few zones). */
const dayFormats = new Map<string, Intl.DateTimeFormat>()
const dayFormat = (language: string, timeZone: string) => {
  const key = `${language} ${timeZone}`
  let format = dayFormats.get(key)
  if (!format) {
    format = new Intl.DateTimeFormat(language, { weekday: 'long', day: 'numeric', month: 'long', timeZone })
    dayFormats.set(key, format)
  }
  return format
}

/** "on Monday, 8 December": when the next lesson comes, in the reader's own time zone. */
const nextWhen = (at: number | null, timezone: string, language: string) =>
  at === null ? '' : `on ${dayFormat(language, timezone).format(at)}`

async function renderLesson(
  deps: LessonDeps,
  s: Subscriber,
  lesson: number,
  nextSendAt: number | null,
  now: number,
): Promise<OutgoingEmail> {
  const template = await deps.lesson(s.course, lesson)
  if (!template) throw new Error(`course ${s.course} has no lesson ${lesson}`)
  const [links, click] = await Promise.all([
    subscriberLinks(deps.signingKey, deps.origin, s.id, now, ['unsubscribe', 'preferences']),
    clickToken(deps.signingKey, s.id, `lesson:${s.course}:${lesson}`, now),
  ])
  return subscriberEmail(
    template,
    {
      greeting: greeting(s.first_name),
      preferences_url: links.preferences,
      site_url: deps.origin,
      click,
      next_when: nextWhen(nextSendAt, s.timezone, deps.settings.language),
    },
    {
      to: s.email,
      from: deps.from,
      unsubscribeUrl: links.unsubscribe,
      list: listOf(deps.settings, s.course, deps.settings.courses[s.course]?.title ?? s.course),
    },
    [
      { name: 'type', value: 'lesson' },
      { name: 'course', value: s.course },
      { name: 'lesson', value: String(lesson) },
      // Resend's webhooks echo the tags: the event finds its receipt by them.
      { name: 'subscriber', value: s.id },
    ],
  )
}

/**
 * Sends one recorded batch and records the outcome. The same batch always goes out as the same
 * request under the same key, so a retry after a lost answer is deduplicated by the provider.
 */
async function sendRecordedBatch(deps: LessonDeps, b: LessonBatch, now: number, known?: Map<string, Subscriber>) {
  const subs =
    known ??
    (await getSubscribers(
      deps.db,
      b.pairs.map((p) => p.subscriberId),
    ))
  // Whoever unsubscribed, paused, bounced, complained, restarted or was erased since the first
  // attempt drops out: a retry never mails them. If that attempt did reach the provider, the
  // smaller request under the same key is answered 409 below, and counts as sent.
  const pairs = b.pairs.filter((p) => stillOwed(subs.get(p.subscriberId), p, b.course))
  await dropPairs(
    deps.db,
    b.batchKey,
    b.pairs.filter((p) => !pairs.includes(p)),
  )
  if (pairs.length === 0) return 0
  const count = deps.lessonCount(b.course)
  const schedule = deps.settings.courses[b.course]?.schedule
  // When each reader's next lesson is due: the email says so, and the subscriber moves on to it.
  const nextAt = pairs.map((p) => {
    const s = subs.get(p.subscriberId) as Subscriber
    return p.lesson >= count || !schedule ? null : nextLessonAt(b.dispatchedAt, s.timezone, schedule)
  })
  const emails = await Promise.all(
    pairs.map((p, i) => renderLesson(deps, subs.get(p.subscriberId) as Subscriber, p.lesson, nextAt[i] ?? null, now)),
  )
  let ids: (string | null)[]
  try {
    ids = (await deps.mailer.sendBatch(emails, b.batchKey)).map((r) => r.id)
  } catch (err) {
    // 409: this key was used with a different body (a name changed since the first attempt): sent.
    if (!(err instanceof MailerError && err.status === 409)) throw err
    ids = pairs.map(() => null)
  }
  const sent = pairs.map((p, i) => {
    return {
      ...p,
      messageId: ids[i] ?? null,
      nextSendAt: nextAt[i] ?? null,
    }
  })
  // The deliveries, each subscriber moving on, and the completions (their history, closing email
  // and event) commit together: a crash after the provider call leaves the batch to be retried.
  const moved = await lifecycle.lessonsSent(
    deps.lifecycle,
    b.batchKey,
    sent,
    now,
    deliveredStatements(deps.db, b.batchKey, sent, now),
  )
  await deps.ring(moved.outbox)
  return pairs.length
}

/**
 * Delivers one LESSONS message. First finishes any batch an earlier attempt left half-done, then
 * sends the lessons still owed: each subscriber re-read, so an unsubscribe or pause since the claim
 * wins. A provider error is thrown for the queue to retry; nothing is ever sent twice or skipped.
 */
export async function deliverLessons(deps: LessonDeps, job: LessonJob, now: number): Promise<number> {
  let sent = 0
  const jobPairs = job.pairs
  const recorded = await deliveriesFor(deps.db, jobPairs)
  for (const key of new Set(recorded.filter((d) => d.status === 'sending').map((d) => d.batch_key))) {
    const unfinished = await getBatch(deps.db, key)
    if (unfinished) sent += await sendRecordedBatch(deps, unfinished, now)
  }
  const count = deps.lessonCount(job.course)
  const taken = new Set(recorded.map(pairKey))
  const subs = await getSubscribers(
    deps.db,
    jobPairs.map((p) => p.subscriberId),
  )
  const due = jobPairs.filter((p) => !taken.has(pairKey(p)) && stillOwed(subs.get(p.subscriberId), p, job.course))
  // A lesson past the course's end (the essay lost a part since, or an import said so) is never
  // rendered: the subscriber has had every lesson there is, so the course is done for them.
  const beyond = due.filter((p) => p.lesson > count)
  if (beyond.length > 0) {
    console.error(`course ${job.course} has ${count} lesson(s); ${beyond.length} subscriber(s) completed past its end`)
    await deps.ring((await lifecycle.completeBeyondEnd(deps.lifecycle, beyond, now)).outbox)
  }
  const owed = due.filter((p) => p.lesson <= count)
  if (owed.length === 0) return sent
  const batch: LessonBatch = {
    batchKey: await batchKeyOf(job.course, owed),
    course: job.course,
    pairs: owed,
    dispatchedAt: job.dispatchedAt,
  }
  const owned = await recordIntent(deps.db, batch, now)
  return owned ? sent + (await sendRecordedBatch(deps, owned, now, subs)) : sent
}
