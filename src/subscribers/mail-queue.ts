import { deliverWebhook, type WebhookJob } from '../admin/outbound'
import { type CompletionDeps, sendCompletions } from '../course/completion'
import type { CompletionJob } from '../course/deliver'
import { mailSetup } from '../mail/config'
import { MailerError, type SendOutcome } from '../mail/mailer'
import type { SiteContent } from '../site/content'
import { type ConfirmationDeps, type ConfirmationJob, sendConfirmations } from './signup'

/** A job on the MAIL queue: one transactional email, or one outbound webhook. */
export type MailJob = ConfirmationJob | CompletionJob | WebhookJob

/**
 * Seconds to wait before retrying a failed send: what the provider asked for (Retry-After), else
 * `base` (10 s), 2 × base, 4 × base … by attempt (from 1), at most 10 minutes.
 */
export function retryDelay(err: unknown, attempts: number, base = 10): number {
  if (err instanceof MailerError && err.retryAfterSeconds) return Math.min(600, Math.ceil(err.retryAfterSeconds))
  return Math.min(600, base * 2 ** Math.max(0, attempts - 1))
}

/** The first retry's delay; MAIL_RETRY_BASE_SECONDS shortens it for chaos tests. */
export const retryBase = (env: Env) => Number(env.MAIL_RETRY_BASE_SECONDS || 10)

type Deps = { confirmation: ConfirmationDeps; completion: CompletionDeps }

async function mailDeps(env: Env, content: SiteContent): Promise<Deps | string> {
  const manifest = await content.manifest(env.CONTENT)
  const setup = mailSetup(env, manifest.settings)
  if (!setup.ok) return setup.problem
  const { mailer, signingKey, origin, from } = setup
  const common = { db: env.DB, mailer, signingKey, origin, from, settings: manifest.settings }
  const [confirmation, completion] = await Promise.all([
    content.email(env.CONTENT, manifest, 'confirmation'),
    content.email(env.CONTENT, manifest, 'course-complete'),
  ])
  const essayPath = (course: string) => manifest.courses[course]?.lessons[0]?.webPath ?? '/'
  return { confirmation: { ...common, confirmation }, completion: { ...common, template: completion, essayPath } }
}

/** Delivers one outbound webhook; the endpoint failing means a retry later, with backoff. */
async function settleWebhook(message: Message<MailJob>, job: WebhookJob, env: Env, now: number) {
  if (!env.WEBHOOK_URL || !env.WEBHOOK_SECRET) {
    message.ack() // no endpoint any more: nobody to tell
    return
  }
  if (await deliverWebhook(env.WEBHOOK_URL, env.WEBHOOK_SECRET, job, now)) message.ack()
  else message.retry({ delaySeconds: retryDelay(undefined, message.attempts, retryBase(env)) })
}

/**
 * The MAIL queue's consumer: confirmations, closing emails and outbound webhooks. A provider
 * hiccup (429, 5xx, lost connection) retries the message later, honouring Retry-After; the
 * idempotency key makes the retry safe even when the first attempt did go out. Messages that keep
 * failing end in the dead-letter queue.
 */
export async function consumeMail(batch: MessageBatch<MailJob>, env: Env, content: SiteContent, now: number) {
  const mail: { message: Message<MailJob>; job: ConfirmationJob | CompletionJob }[] = []
  const hooks: Promise<void>[] = []
  for (const message of batch.messages) {
    const job = message.body
    if (job.kind === 'webhook') hooks.push(settleWebhook(message, job, env, now))
    else mail.push({ message, job })
  }
  await Promise.all(hooks)
  if (mail.length === 0) return
  let deps: Deps | string
  try {
    deps = await mailDeps(env, content)
  } catch (err) {
    console.error('mail queue: content unavailable', err)
    deps = 'the published content could not be read'
  }
  if (typeof deps === 'string') {
    console.error(`mail queue: cannot send (${deps}); retrying later`)
    for (const { message } of mail) message.retry({ delaySeconds: 60 })
    return
  }
  const confirmations = mail.flatMap((m) => (m.job.kind === 'confirmation' ? [{ ...m, job: m.job }] : []))
  const completions = mail.flatMap((m) => (m.job.kind === 'completion' ? [{ ...m, job: m.job }] : []))
  const sentC = await sendConfirmations(
    deps.confirmation,
    confirmations.map((x) => x.job),
    now,
  )
  const sentD = await sendCompletions(
    deps.completion,
    completions.map((x) => x.job),
    now,
  )
  const base = retryBase(env)
  for (const [k, x] of confirmations.entries()) settle(x.message, x.job, sentC[k], base)
  for (const [k, x] of completions.entries()) settle(x.message, x.job, sentD[k], base)
}
function settle(
  message: Message<MailJob>,
  job: ConfirmationJob | CompletionJob,
  outcome: SendOutcome | { ok: 'stale' } | undefined,
  base: number,
) {
  if (!outcome || outcome.ok) {
    message.ack()
    return
  }
  if (!outcome.error.retryable) {
    console.error(`mail queue: ${job.kind} to ${job.subscriberId} refused: ${outcome.error.message}`)
    message.ack()
    return
  }
  const delaySeconds = retryDelay(outcome.error, message.attempts, base)
  console.error(`mail queue: will retry in ${delaySeconds} s: ${outcome.error.message}`)
  message.retry({ delaySeconds })
}
