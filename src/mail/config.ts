import type { PublishedSettings } from '../ui/types'
import type { Mailer } from './mailer'
import { outboxMailer } from './outbox'
import { resendMailer } from './resend'

/** The mail side of the Worker's settings: who sends, from where, and how links are signed. */
export type MailSetup =
  | { ok: true; mailer: Mailer; signingKey: string; origin: string; from: string }
  | { ok: false; problem: string }

/** What every sender of mail to subscribers works with: the database, the mailer, and where links point. */
export interface MailContext {
  db: D1Database
  mailer: Mailer
  signingKey: string
  /** Origin of links in emails. */
  origin: string
  from: string
  settings: PublishedSettings
}

/** True on a developer's machine (`npm start` and tests set ENVIRONMENT=local); never in production. */
export const isLocal = (env: Env) => env.ENVIRONMENT === 'local'

/**
 * Chooses the mailer: Resend when RESEND_API_KEY is set, the D1 outbox on a local run, and
 * nothing on a deployed Worker without a key, whose mail would otherwise sit unread.
 */
export function mailSetup(env: Env, settings: PublishedSettings, now: () => number = Date.now): MailSetup {
  const problem = mailProblem(env)
  if (problem || !env.SIGNING_KEY) return { ok: false, problem: problem ?? 'SIGNING_KEY is not set' }
  // `||`, not `??`: an empty value (as tests set to shut out a developer's .dev.vars) means unset.
  const mailer = env.RESEND_API_KEY
    ? resendMailer(env.RESEND_API_KEY, env.RESEND_BASE_URL || undefined)
    : outboxMailer(env.DB, now)
  return {
    ok: true,
    mailer,
    signingKey: env.SIGNING_KEY,
    // Without a trailing slash, once: every email's links are this plus a path.
    origin: (env.PUBLIC_URL || settings.baseUrl).replace(/\/+$/, ''),
    from: env.MAIL_FROM || settings.mailFrom,
  }
}

/** Why this Worker could not send mail, or undefined when it can. */
export function mailProblem(env: Env): string | undefined {
  if (!env.SIGNING_KEY) return 'SIGNING_KEY is not set, so links in emails cannot be signed'
  if (env.SIGNING_KEY.length < 16 || env.SIGNING_KEY.startsWith('change-me'))
    return 'SIGNING_KEY is too short or still the example value; use a long random string'
  if (!env.RESEND_API_KEY && !isLocal(env))
    return 'RESEND_API_KEY is not set on a deployed Worker, so no email could be delivered'
  return undefined
}
