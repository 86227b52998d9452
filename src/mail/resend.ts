import { type Mailer, MailerError, type OutgoingEmail, type SendOutcome, type SentEmail } from './mailer'

/** Requests in flight at once: Resend's default allowance is a few per second. */
const CONCURRENCY = 4

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
  ...(e.replyTo ? { replyTo: e.replyTo } : {}),
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
    status ?? undefined,
  )
}

/**
 * Sends through Resend's API with the official SDK; `baseUrl` lets tests use a local server. The
 * SDK (and the webhook library it brings) is loaded on the first send, not at the Worker's startup:
 * a request that sends nothing never pays for it.
 */
export function resendMailer(apiKey: string, baseUrl?: string): Mailer {
  let client: Promise<import('resend').Resend> | undefined
  const sdk = () => {
    client ??= import('resend').then(({ Resend }) => new Resend(apiKey, baseUrl ? { baseUrl } : undefined))
    return client
  }
  return {
    kind: 'resend',
    async sendEach(items) {
      const resend = await sdk()
      const outcomes: SendOutcome[] = new Array(items.length)
      let next = 0
      const worker = async () => {
        for (let i = next++; i < items.length; i = next++) {
          const { email, idempotencyKey } = items[i] as (typeof items)[number]
          try {
            outcomes[i] = { ok: true, id: unwrap(await resend.emails.send(toResend(email), { idempotencyKey })).id }
          } catch (error) {
            if (!(error instanceof MailerError)) throw error
            outcomes[i] = { ok: false, error }
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
      return outcomes
    },
    async sendBatch(emails, idempotencyKey): Promise<SentEmail[]> {
      const resend = await sdk()
      return unwrap(await resend.batch.send(emails.map(toResend), { idempotencyKey })).data
    },
  }
}
