/** One email, ready to hand to a provider. */
export interface OutgoingEmail {
  from: string
  to: string
  subject: string
  html: string
  text: string
  headers: Record<string, string>
  tags?: { name: string; value: string }[]
  /** Where replies go (content/site.json's replyTo). */
  replyTo?: string
}

/** A provider's receipt for one email. */
export interface SentEmail {
  id: string
}

/** A send that did not go through; `retryable` when trying again later may succeed (429, 5xx, network). */
export class MailerError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
    /** The provider's HTTP status; undefined when no answer came. */
    readonly status?: number,
  ) {
    super(message)
    this.name = 'MailerError'
  }
}

/** One email of several sent separately, each under its own idempotency key. */
export interface KeyedEmail {
  email: OutgoingEmail
  idempotencyKey: string
}

/** What became of one email of a {@link Mailer.sendEach}. */
export type SendOutcome = { ok: true; id: string } | { ok: false; error: MailerError }

/**
 * Sends email. Two real implementations: Resend ({@link ./resend}) and the D1 outbox
 * ({@link ./outbox}). The same idempotency key never sends twice.
 */
export interface Mailer {
  readonly kind: 'resend' | 'outbox'
  /** Each email on its own (so each can fail and be retried on its own); outcomes in order. */
  sendEach(items: KeyedEmail[]): Promise<SendOutcome[]>
  /** Up to 100 emails in one call; receipts in the same order. */
  sendBatch(emails: OutgoingEmail[], idempotencyKey: string): Promise<SentEmail[]>
}
