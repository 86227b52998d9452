import { type CompletionDeps, sendCompletions } from '../course/completion'
import type { CompletionJob } from '../course/deliver'
import { mailSetup } from '../mail/config'
import { MailerError, type SendOutcome } from '../mail/mailer'
import type { SiteContent } from '../site/content'
import { type ConfirmationDeps, type ConfirmationJob, sendConfirmations } from './signup'

/** A job on the MAIL queue: one transactional email. */
export type MailJob = ConfirmationJob | CompletionJob

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

/**
 * The MAIL queue's consumer: confirmations and closing emails. A provider hiccup (429, 5xx, lost
 * connection) retries the message later, honouring Retry-After; the idempotency key makes the
 * retry safe even when the first attempt did go out. Messages that keep failing end in the
 * dead-letter queue.
 */
export async function consumeMail(batch: MessageBatch<MailJob>, env: Env, content: SiteContent, now: number) {
  let deps: Deps | string
  try {
    deps = await mailDeps(env, content)
  } catch (err) {
    console.error('mail queue: content unavailable', err)
    deps = 'the published content could not be read'
  }
  if (typeof deps === 'string') {
    console.error(`mail queue: cannot send (${deps}); retrying the batch later`)
    batch.retryAll({ delaySeconds: 60 })
    return
  }
  const outcomes: (SendOutcome | { ok: 'stale' } | undefined)[] = []
  const confirmations = batch.messages.flatMap((m, i) => (m.body.kind === 'confirmation' ? [{ job: m.body, i }] : []))
  const completions = batch.messages.flatMap((m, i) => (m.body.kind === 'completion' ? [{ job: m.body, i }] : []))
  const sentC = await sendConfirmations(
    deps.confirmation,
    confirmations.map((x) => x.job),
    now,
  )
  confirmations.forEach((x, k) => {
    outcomes[x.i] = sentC[k]
  })
  const sentD = await sendCompletions(
    deps.completion,
    completions.map((x) => x.job),
    now,
  )
  completions.forEach((x, k) => {
    outcomes[x.i] = sentD[k]
  })
  for (const [i, message] of batch.messages.entries()) settle(message, outcomes[i], retryBase(env))
}

function settle(message: Message<MailJob>, outcome: SendOutcome | { ok: 'stale' } | undefined, base: number) {
  if (!outcome || outcome.ok) {
    message.ack()
    return
  }
  if (!outcome.error.retryable) {
    console.error(`mail queue: ${message.body.kind} to ${message.body.subscriberId} refused: ${outcome.error.message}`)
    message.ack()
    return
  }
  const delaySeconds = retryDelay(outcome.error, message.attempts, base)
  console.error(`mail queue: will retry in ${delaySeconds} s: ${outcome.error.message}`)
  message.retry({ delaySeconds })
}
