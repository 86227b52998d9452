/**
 * The queue switchboard: every queue batch arrives here, each message is routed by its job's
 * `kind` to one handler, and one policy settles what came of it: done (ack), worth another try
 * (retry with backoff, honouring the provider's Retry-After), or never going to work (kept in
 * D1's dead_letters, where the marketer sees it). Messages that exhaust their retries reach the
 * dead-letter queues, whose batches land in the same table.
 */
import { type CompletionDeps, sendCompletions } from './course/completion'
import type { CompletionJob } from './course/deliver'
import { deliverLessons, type LessonDeps } from './course/deliver'
import type { LessonJob } from './course/dispatch'
import { type MailContext, mailSetup } from './mail/config'
import { keepDeadLetters } from './mail/dead-letters'
import { MailerError, type SendOutcome } from './mail/mailer'
import { ring } from './mail/relay'
import { RETRY_BASE_SECONDS, retryDelay } from './mail/retry'
import { deliverWebhook, type WebhookJob } from './mail/webhook'
import { type BroadcastDeps, deliverBroadcast } from './newsletter/deliver'
import type { BroadcastJob } from './newsletter/dispatch'
import type { SiteContent } from './site/content'
import { lifecycleOf } from './subscribers/lifecycle'
import { eventData } from './subscribers/present'
import { type ReengagementJob, sendReengagements } from './subscribers/reengagement'
import { type ConfirmationJob, sendConfirmations } from './subscribers/signup'

/** Every job a queue carries. */
export type Job = ConfirmationJob | CompletionJob | WebhookJob | LessonJob | BroadcastJob | ReengagementJob
type Kind = Job['kind']

/** The queues, as wrangler.toml names them: which one carries which kinds. */
export const QUEUES = {
  mail: { name: 'spine-exercises-mail', kinds: ['confirmation', 'completion', 'webhook', 'reengagement'] },
  // Bulk mail: lessons and broadcasts share one queue, one consumer and one provider rate budget.
  lessons: { name: 'spine-exercises-lessons', kinds: ['lessons', 'broadcast'] },
} as const satisfies Record<string, { name: string; kinds: readonly Kind[] }>

/** What came of one job. */
export type Outcome =
  | { ok: true }
  | { ok: false; retryable: boolean; reason: string; error?: unknown; delaySeconds?: number }

const done: Outcome = { ok: true }
const fromSend = (o: SendOutcome | { ok: 'stale' } | undefined): Outcome =>
  !o || o.ok ? done : { ok: false, retryable: o.error.retryable, reason: o.error.message, error: o.error }

/** Everything a handler may use. */
interface Switchboard {
  env: Env
  content: SiteContent
  now: () => number
}

type Handler<J extends Job> = (jobs: J[], sb: Switchboard) => Promise<Outcome[]>

/** The mail side of the Worker, or why it cannot send now (a retry in a minute). */
async function mailContext(sb: Switchboard): Promise<MailContext | Outcome> {
  try {
    const manifest = await sb.content.manifest(sb.env.CONTENT)
    const setup = mailSetup(sb.env, manifest.settings)
    if (!setup.ok) return { ok: false, retryable: true, reason: setup.problem, delaySeconds: 60 }
    const { mailer, signingKey, origin, from } = setup
    return { db: sb.env.DB, mailer, signingKey, origin, from, settings: manifest.settings }
  } catch (err) {
    return {
      ok: false,
      retryable: true,
      reason: 'the published content could not be read',
      error: err,
      delaySeconds: 60,
    }
  }
}
const isOutcome = (x: MailContext | Outcome): x is Outcome => 'ok' in x

const confirmations: Handler<ConfirmationJob> = async (jobs, sb) => {
  const ctx = await mailContext(sb)
  if (isOutcome(ctx)) return jobs.map(() => ctx)
  const manifest = await sb.content.manifest(sb.env.CONTENT)
  const [confirmation, newsletterConfirmation] = await Promise.all([
    sb.content.email(sb.env.CONTENT, manifest, 'confirmation'),
    sb.content.email(sb.env.CONTENT, manifest, 'newsletter-confirmation'),
  ])
  return (await sendConfirmations({ ...ctx, confirmation, newsletterConfirmation }, jobs, sb.now())).map(fromSend)
}

const completions: Handler<CompletionJob> = async (jobs, sb) => {
  const ctx = await mailContext(sb)
  if (isOutcome(ctx)) return jobs.map(() => ctx)
  const manifest = await sb.content.manifest(sb.env.CONTENT)
  const deps: CompletionDeps = {
    ...ctx,
    template: await sb.content.email(sb.env.CONTENT, manifest, 'course-complete'),
    essayPath: (course) => manifest.courses[course]?.lessons[0]?.webPath ?? '/',
  }
  return (await sendCompletions(deps, jobs, sb.now())).map(fromSend)
}

const reengagements: Handler<ReengagementJob> = async (jobs, sb) => {
  const ctx = await mailContext(sb)
  if (isOutcome(ctx)) return jobs.map(() => ctx)
  const manifest = await sb.content.manifest(sb.env.CONTENT)
  const template = await sb.content.email(sb.env.CONTENT, manifest, 'reengagement')
  return (await sendReengagements({ ...ctx, template }, jobs, sb.now())).map(fromSend)
}

const webhooks: Handler<WebhookJob> = async (jobs, { env, now }) => {
  // No endpoint any more: nobody to tell.
  if (!env.WEBHOOK_URL || !env.WEBHOOK_SECRET) return jobs.map(() => done)
  const { WEBHOOK_URL: url, WEBHOOK_SECRET: secret } = env
  return Promise.all(
    jobs.map(async (job) =>
      (await deliverWebhook(url, secret, { ...job, data: eventData(job.data) }, now()))
        ? done
        : { ok: false, retryable: true, reason: `the endpoint refused ${job.type}` },
    ),
  )
}

/**
 * The provider's rate budget: bulk jobs (lessons and broadcasts, one provider call each) start at
 * most MAIL_REQUESTS_PER_SECOND a second. With the bulk queue's max_concurrency of 1 there is one
 * consumer at a time, so this one clock keeps the account's rate limit.
 */
let nextSlot = 0
async function providerSlot(env: Env) {
  const perSecond = Number(env.MAIL_REQUESTS_PER_SECOND || 2)
  const spacing = perSecond > 0 ? 1000 / perSecond : 0
  const now = Date.now()
  const at = Math.max(now, nextSlot)
  nextSlot = at + spacing
  if (at > now) await new Promise((r) => setTimeout(r, at - now))
}

/** A bulk job's failure as the switchboard settles it: retried unless the provider refused it for good. */
const bulkFailure = (err: unknown): Outcome => {
  const retryable = !(err instanceof MailerError) || err.retryable || err.status === undefined
  return { ok: false, retryable, reason: err instanceof Error ? err.message : String(err), error: err }
}

/** Each LESSONS message is one provider batch of up to 100 lessons, in the provider's rate budget. */
const lessons: Handler<LessonJob> = async (jobs, sb) => {
  const ctx = await mailContext(sb)
  if (isOutcome(ctx)) return jobs.map(() => ctx)
  const manifest = await sb.content.manifest(sb.env.CONTENT)
  const deps: LessonDeps = {
    ...ctx,
    lifecycle: lifecycleOf(sb.env),
    lesson: (course, n) => sb.content.lesson(sb.env.CONTENT, manifest, course, n),
    lessonCount: (course) => manifest.courses[course]?.lessons.length ?? 0,
    ring: (rows) => ring(sb.env.DB, sb.env.MAIL, rows),
  }
  const outcomes: Outcome[] = []
  for (const job of jobs) {
    await providerSlot(sb.env)
    try {
      await deliverLessons(deps, job, sb.now())
      outcomes.push(done)
    } catch (err) {
      outcomes.push(bulkFailure(err))
    }
  }
  return outcomes
}

/** Each BROADCAST message is one provider batch of up to 100 readers of one broadcast, in the same budget. */
const broadcasts: Handler<BroadcastJob> = async (jobs, sb) => {
  const ctx = await mailContext(sb)
  if (isOutcome(ctx)) return jobs.map(() => ctx)
  const manifest = await sb.content.manifest(sb.env.CONTENT)
  const deps: BroadcastDeps = {
    ...ctx,
    template: async (path) => {
      const entry = manifest.broadcasts?.[path]
      return entry ? sb.content.template(sb.env.CONTENT, entry) : undefined
    },
  }
  const outcomes: Outcome[] = []
  for (const job of jobs) {
    await providerSlot(sb.env)
    try {
      await deliverBroadcast(deps, job, sb.now())
      outcomes.push(done)
    } catch (err) {
      outcomes.push(bulkFailure(err))
    }
  }
  return outcomes
}

const handlers: { [K in Kind]: Handler<Extract<Job, { kind: K }>> } = {
  confirmation: confirmations,
  completion: completions,
  webhook: webhooks,
  lessons,
  broadcast: broadcasts,
  reengagement: reengagements,
}

/** How the switchboard retries: the first delay, doubled each attempt (a test sets 0 to run fast). */
export interface RetryPolicy {
  baseSeconds: number
}

/**
 * The Worker's `queue` handler. A dead-letter queue's batch is kept in D1; any other batch is
 * routed by job kind and each message settled by one policy.
 */
export async function consumeQueue(
  batch: MessageBatch,
  env: Env,
  content: SiteContent,
  now: () => number,
  policy: RetryPolicy = { baseSeconds: RETRY_BASE_SECONDS },
) {
  if (batch.queue.endsWith('-dlq')) {
    await keepDeadLetters(env.DB, batch.queue, batch.messages, now())
    batch.ackAll()
    return
  }
  const byKind = new Map<string, Message<Job>[]>()
  for (const m of batch.messages as readonly Message<Job>[]) {
    const kind = typeof m.body === 'object' && m.body !== null ? String(m.body.kind) : ''
    byKind.set(kind, [...(byKind.get(kind) ?? []), m])
  }
  const sb: Switchboard = { env, content, now }
  const refused: Message[] = []
  await Promise.all(
    [...byKind].map(async ([kind, messages]) => {
      const handler = Object.hasOwn(handlers, kind) ? (handlers[kind as Kind] as Handler<Job>) : undefined
      // A job on a queue that does not carry its kind was misrouted: its rate budget and retries
      // would be the wrong ones, so it is kept for the marketer instead of run.
      const carried = Object.values(QUEUES).find((q) => q.name === batch.queue)?.kinds as readonly string[] | undefined
      if (!handler || (carried && !carried.includes(kind))) {
        console.error(`queue ${batch.queue}: no handler here for a job of kind "${kind}"; kept as a dead letter`)
        refused.push(...messages)
        return
      }
      let outcomes: Outcome[]
      try {
        outcomes = await handler(
          messages.map((m) => m.body),
          sb,
        )
      } catch (err) {
        outcomes = messages.map(() => ({ ok: false, retryable: true, reason: String(err), error: err }))
      }
      for (const [i, m] of messages.entries()) {
        const outcome = outcomes[i] ?? done
        if (outcome.ok) m.ack()
        else if (!outcome.retryable) {
          console.error(`queue ${batch.queue}: ${kind} refused for good (${outcome.reason}); kept as a dead letter`)
          refused.push(m)
        } else {
          const delaySeconds = outcome.delaySeconds ?? retryDelay(outcome.error, m.attempts, policy.baseSeconds)
          console.error(`queue ${batch.queue}: ${kind} will retry in ${delaySeconds} s: ${outcome.reason}`)
          m.retry({ delaySeconds })
        }
      }
    }),
  )
  await keepDeadLetters(env.DB, `${batch.queue}-dlq`, refused, now())
  for (const m of refused) m.ack()
}
