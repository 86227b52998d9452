import { Resend } from 'resend'
import { type Mailer, MailerError, type OutgoingEmail, type SentEmail } from './mailer'

type ResendResult<T> = {
  data: T | null
  error: { statusCode?: number | null; name?: string; message?: string } | null
  headers?: Record<string, string> | null
}

const toResend = (e: OutgoingEmail) => ({
  from: e.from,
  to: [e.to],
  subject: e.subject,
  html: e.html,
  text: e.text,
  headers: e.headers,
  tags: e.tags,
})

function unwrap<T>(result: ResendResult<T>): T {
  if (result.data && !result.error) return result.data
  const status = result.error?.statusCode ?? null
  // No status: the connection failed or the answer was lost; the idempotency key makes a retry safe.
  const retryable = status === null || status === 429 || status >= 500
  const retryAfter = Number(result.headers?.['retry-after'])
  throw new MailerError(
    `Resend ${status ?? 'unreachable'}: ${result.error?.name ?? 'error'}: ${result.error?.message ?? ''}`,
    retryable,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  )
}

/** Sends through Resend's API with the official SDK; `baseUrl` lets tests use a local server. */
export function resendMailer(apiKey: string, baseUrl?: string): Mailer {
  const resend = new Resend(apiKey, baseUrl ? { baseUrl } : undefined)
  return {
    kind: 'resend',
    async send(email, idempotencyKey): Promise<SentEmail> {
      return unwrap(await resend.emails.send(toResend(email), { idempotencyKey }))
    },
    async sendBatch(emails, idempotencyKey): Promise<SentEmail[]> {
      return unwrap(await resend.batch.send(emails.map(toResend), { idempotencyKey })).data
    },
  }
}
