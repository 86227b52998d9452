import type { Mailer } from './mailer'
import { outboxMailer } from './outbox'
import { resendMailer } from './resend'

/** The mail side of the Worker's settings: who sends, and with which key links are signed. */
export type MailSetup = { ok: true; mailer: Mailer; signingKey: string } | { ok: false; problem: string }

/** True on a developer's machine (`npm start` and tests set ENVIRONMENT=local); never in production. */
export const isLocal = (env: Env) => env.ENVIRONMENT === 'local'

/**
 * Chooses the mailer: Resend when RESEND_API_KEY is set, the D1 outbox on a local run, and
 * nothing on a deployed Worker without a key, whose mail would otherwise sit unread.
 */
export function mailSetup(env: Env, now: () => number = Date.now): MailSetup {
  if (!env.SIGNING_KEY) return { ok: false, problem: 'SIGNING_KEY is not set, so links in emails cannot be signed' }
  if (env.RESEND_API_KEY) {
    return { ok: true, mailer: resendMailer(env.RESEND_API_KEY, env.RESEND_BASE_URL), signingKey: env.SIGNING_KEY }
  }
  if (isLocal(env)) return { ok: true, mailer: outboxMailer(env.DB, now), signingKey: env.SIGNING_KEY }
  return { ok: false, problem: 'RESEND_API_KEY is not set on a deployed Worker, so no email could be delivered' }
}
