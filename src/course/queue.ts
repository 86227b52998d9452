import { emitEvent } from '../admin/outbound'
import { mailSetup } from '../mail/config'
import type { SiteContent } from '../site/content'
import { retryBase, retryDelay } from '../subscribers/mail-queue'
import { getSubscribers } from '../subscribers/store'
import { deliverLessons, type LessonDeps } from './deliver'
import type { LessonJob } from './dispatch'

async function lessonDeps(env: Env, content: SiteContent): Promise<LessonDeps | string> {
  const manifest = await content.manifest(env.CONTENT)
  const setup = mailSetup(env, manifest.settings)
  if (!setup.ok) return setup.problem
  const { mailer, signingKey, origin, from } = setup
  return {
    db: env.DB,
    mailer,
    signingKey,
    origin,
    from,
    settings: manifest.settings,
    lesson: (course, n) => content.lesson(env.CONTENT, manifest, course, n),
    lessonCount: (course) => manifest.courses[course]?.lessons.length ?? 0,
    complete: async (jobs) => {
      await env.MAIL.sendBatch(jobs.map((body) => ({ body })))
      const subs = await getSubscribers(
        env.DB,
        jobs.map((j) => j.subscriberId),
      )
      for (const s of subs.values()) await emitEvent(env, 'subscriber.completed', s, Date.now())
    },
  }
}

/**
 * The LESSONS queue's consumer: each message is one provider batch of up to 100 lessons. Messages
 * are sent one after another, at most MAIL_REQUESTS_PER_SECOND provider calls a second (with the
 * queue's max_concurrency of 1, that is the provider's rate limit respected across the account).
 */
export async function consumeLessons(
  batch: MessageBatch<LessonJob>,
  env: Env,
  content: SiteContent,
  now: () => number,
) {
  let deps: LessonDeps | string
  try {
    deps = await lessonDeps(env, content)
  } catch (err) {
    deps = `the published content could not be read: ${err instanceof Error ? err.message : err}`
  }
  if (typeof deps === 'string') {
    console.error(`lessons queue: cannot send (${deps}); retrying the batch later`)
    batch.retryAll({ delaySeconds: 60 })
    return
  }
  const perSecond = Number(env.MAIL_REQUESTS_PER_SECOND || 2)
  const spacing = perSecond > 0 ? 1000 / perSecond : 0
  for (const message of batch.messages) {
    const started = Date.now()
    try {
      await deliverLessons(deps, message.body, now())
      message.ack()
    } catch (err) {
      const delaySeconds = retryDelay(err, message.attempts, retryBase(env))
      console.error(
        `lessons queue: batch of ${message.body.pairs.length} will retry in ${delaySeconds} s:`,
        err instanceof Error ? err.message : err,
      )
      message.retry({ delaySeconds })
    }
    const wait = spacing - (Date.now() - started)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
}

/** The dead-letter queues' consumer: keeps each failed message in D1, where it stays visible. */
export async function keepDeadLetters(batch: MessageBatch, env: Env, now: number) {
  const insert = env.DB.prepare('INSERT INTO dead_letters (queue, body, attempts, received_at) VALUES (?, ?, ?, ?)')
  await env.DB.batch(batch.messages.map((m) => insert.bind(batch.queue, JSON.stringify(m.body), m.attempts, now)))
  batch.ackAll()
}
