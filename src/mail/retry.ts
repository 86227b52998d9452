import { MailerError } from './mailer'

/** The first retry's delay: long enough for a provider's hiccup to pass. */
export const RETRY_BASE_SECONDS = 10

/**
 * Seconds to wait before retrying a failed job: what the provider asked for (Retry-After), else
 * `base` (10 s), 2 × base, 4 × base … by attempt (from 1), at most 10 minutes.
 */
export function retryDelay(err: unknown, attempts: number, base = RETRY_BASE_SECONDS): number {
  if (err instanceof MailerError && err.retryAfterSeconds) return Math.min(600, Math.ceil(err.retryAfterSeconds))
  return Math.min(600, base * 2 ** Math.max(0, attempts - 1))
}
