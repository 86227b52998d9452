import { greeting, subscriberEmail } from '../mail/compose'
import type { EmailTemplate } from '../mail/fill'
import type { Mailer } from '../mail/mailer'
import type { PublishedSettings } from '../site/manifest'
import { subscriberLinks } from './links'
import { claimSignup, getSubscriber, recordEvent, releaseConfirmationClaim, type SignupRecord } from './store'

/** A pending address gets at most one confirmation email in this time. */
export const CONFIRMATION_INTERVAL_MS = 10 * 60_000

/** A job on the MAIL queue: send the confirmation of one signup claim. */
export interface ConfirmationJob {
  kind: 'confirmation'
  subscriberId: string
  /** The claim's time; a later claim of the same subscriber makes this job stale. */
  claimedAt: number
}

/**
 * Takes one signup: records it and, for a new, re-joining or long-pending address, queues one
 * confirmation email. The caller answers the same way whatever happened, and never waits for
 * the mail provider.
 */
export async function signUp(
  db: D1Database,
  mail: Queue<ConfirmationJob>,
  record: SignupRecord,
  now: number,
): Promise<'queued' | 'unchanged'> {
  const claim = await claimSignup(db, record, now, now - CONFIRMATION_INTERVAL_MS)
  if (!claim) return 'unchanged'
  try {
    await mail.send({ kind: 'confirmation', subscriberId: claim.subscriber.id, claimedAt: now })
  } catch (err) {
    // Without this the address would wait 10 minutes for a retry although nothing was queued.
    await releaseConfirmationClaim(db, claim.subscriber.id, now)
    throw err
  }
  return 'queued'
}

/** What sending a confirmation needs from the outside world. */
export interface ConfirmationDeps {
  db: D1Database
  mailer: Mailer
  signingKey: string
  /** Origin of links in emails. */
  origin: string
  from: string
  settings: PublishedSettings
  confirmation: EmailTemplate
}

/**
 * Sends the confirmation of one claim, unless it is stale (the subscriber confirmed, left, or
 * signed up again since). Idempotent per claim: a retry never sends a second email.
 */
export async function sendConfirmation(
  deps: ConfirmationDeps,
  job: ConfirmationJob,
  now: number,
): Promise<'sent' | 'stale'> {
  const s = await getSubscriber(deps.db, job.subscriberId)
  if (!s || s.status !== 'pending' || s.confirmation_sent_at !== job.claimedAt) return 'stale'
  const links = await subscriberLinks(deps.signingKey, deps.origin, s.id, now)
  const courseTitle = deps.settings.courses[s.course]?.title ?? deps.settings.name
  const email = subscriberEmail(
    deps.confirmation,
    { greeting: greeting(s.first_name), course_title: courseTitle, confirm_url: links.confirm },
    { to: s.email, from: deps.from, unsubscribeUrl: links.unsubscribe },
    [{ name: 'type', value: 'confirmation' }],
  )
  const sent = await deps.mailer.send(email, `confirm-${s.id}-${job.claimedAt}`)
  await recordEvent(deps.db, s.id, 'confirmation_sent', now, { message_id: sent.id })
  return 'sent'
}
