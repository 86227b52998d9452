import { mailSetup } from '../mail/config'
import { MailerError } from '../mail/mailer'
import type { SiteContent } from '../site/content'
import { type ConfirmationDeps, type ConfirmationJob, sendConfirmations } from './signup'

/**
 * Seconds to wait before retrying a failed send: what the provider asked for (Retry-After), else
 * 10 s, 20 s, 40 s … by attempt (from 1), at most 10 minutes.
 */
export function retryDelay(err: unknown, attempts: number): number {
  if (err instanceof MailerError && err.retryAfterSeconds) return Math.min(600, Math.ceil(err.retryAfterSeconds))
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1))
}

async function confirmationDeps(env: Env, content: SiteContent): Promise<ConfirmationDeps | string> {
  const setup = mailSetup(env)
  if (!setup.ok) return setup.problem
  const manifest = await content.manifest(env.CONTENT)
  return {
    db: env.DB,
    mailer: setup.mailer,
    signingKey: setup.signingKey,
    origin: env.PUBLIC_URL ?? manifest.settings.baseUrl,
    from: env.MAIL_FROM ?? manifest.settings.mailFrom,
    settings: manifest.settings,
    confirmation: await content.email(env.CONTENT, manifest, 'confirmation'),
  }
}

/**
 * The MAIL queue's consumer: sends each queued confirmation. A provider hiccup (429, 5xx, lost
 * connection) retries the message later, honouring Retry-After; the idempotency key makes the
 * retry safe even when the first attempt did go out. Messages that keep failing end in the
 * dead-letter queue.
 */
export async function consumeMail(batch: MessageBatch<ConfirmationJob>, env: Env, content: SiteContent, now: number) {
  let deps: ConfirmationDeps | string
  try {
    deps = await confirmationDeps(env, content)
  } catch (err) {
    console.error('mail queue: content unavailable', err)
    deps = 'the published content could not be read'
  }
  if (typeof deps === 'string') {
    console.error(`mail queue: cannot send (${deps}); retrying the batch later`)
    batch.retryAll({ delaySeconds: 60 })
    return
  }
  const outcomes = await sendConfirmations(
    deps,
    batch.messages.map((m) => m.body),
    now,
  )
  batch.messages.forEach((message, i) => {
    const outcome = outcomes[i]
    if (!outcome || outcome.ok) return message.ack()
    if (!outcome.error.retryable) {
      console.error(`mail queue: confirmation to ${message.body.subscriberId} refused: ${outcome.error.message}`)
      return message.ack()
    }
    const delaySeconds = retryDelay(outcome.error, message.attempts)
    console.error(`mail queue: will retry in ${delaySeconds} s: ${outcome.error.message}`)
    message.retry({ delaySeconds })
  })
}
