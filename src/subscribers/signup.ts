import { greeting, subscriberEmail } from '../mail/compose'
import type { EmailTemplate } from '../mail/fill'
import type { Mailer } from '../mail/mailer'
import type { PublishedSettings } from '../site/manifest'
import { subscriberLinks } from './links'
import { claimSignup, recordEvent, releaseConfirmationClaim, type SignupRecord, type Subscriber } from './store'

/** A pending address gets at most one confirmation email in this time. */
export const CONFIRMATION_INTERVAL_MS = 10 * 60_000

/** What signing up needs from the outside world. */
export interface SignupDeps {
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
 * Takes one signup. Whatever the address's state, the caller answers the same way; only a new,
 * re-joining, or long-pending address gets a confirmation email.
 */
export async function signUp(deps: SignupDeps, record: SignupRecord, now: number): Promise<'sent' | 'unchanged'> {
  const claim = await claimSignup(deps.db, record, now, now - CONFIRMATION_INTERVAL_MS)
  if (!claim) return 'unchanged'
  const { subscriber, isNew } = claim
  await recordEvent(deps.db, subscriber.id, isNew ? 'signed_up' : 'signed_up_again', now, {
    source: record.source,
    consent_text: record.consent.text,
  })
  try {
    await sendConfirmation(deps, subscriber, now)
  } catch (err) {
    // Without this, the address would wait 10 minutes for a retry although nothing was sent.
    await releaseConfirmationClaim(deps.db, subscriber.id, now)
    throw err
  }
  return 'sent'
}

/** Sends the confirmation email of one pending subscriber's current claim (idempotent per claim). */
export async function sendConfirmation(deps: SignupDeps, s: Subscriber, now: number): Promise<void> {
  const links = await subscriberLinks(deps.signingKey, deps.origin, s.id, now)
  const courseTitle = deps.settings.courses[s.course]?.title ?? deps.settings.name
  const email = subscriberEmail(
    deps.confirmation,
    { greeting: greeting(s.first_name), course_title: courseTitle, confirm_url: links.confirm },
    { to: s.email, from: deps.from, unsubscribeUrl: links.unsubscribe },
    [{ name: 'type', value: 'confirmation' }],
  )
  const sent = await deps.mailer.send(email, `confirm-${s.id}-${s.confirmation_sent_at ?? now}`)
  await recordEvent(deps.db, s.id, 'confirmation_sent', now, { message_id: sent.id })
}
