import { greeting, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import type { SendOutcome } from '../mail/mailer'
import { ring } from '../mail/relay'
import type { EmailTemplate } from '../site/manifest'
import { newsletterOf } from '../ui/types'
import * as lifecycle from './lifecycle'
import { subscriberLinks } from './links'
import { getSubscribers, recordEvents, type SignupRecord } from './store'
import { suppressionHash } from './suppression'

/** A pending address gets at most one confirmation email in this time. */
export const CONFIRMATION_INTERVAL_MS = 10 * 60_000

/** A job on the MAIL queue: send the confirmation of one signup claim. */
export interface ConfirmationJob {
  kind: 'confirmation'
  subscriberId: string
  /** The round the signup opened: its confirm link confirms only that round. */
  round: number
  /** The claim's time; a later claim of the same subscriber makes this job stale. */
  claimedAt: number
  /** 'newsletter': a confirmed subscriber asked for the newsletter alone; absent: the signup. */
  topic?: 'newsletter'
}

/**
 * Takes one signup: records it and, for a new, re-joining or long-pending address, one
 * confirmation email and one event, committed with it. The doorbell then hands them to the queue;
 * if the queue refuses, the cron's relay does later, so a signup never fails for the queue's sake
 * and never waits for the mail provider. The caller answers the same way whatever happened.
 */
export async function signUp(
  deps: lifecycle.LifecycleDeps,
  mail: Queue,
  record: SignupRecord,
  now: number,
  /** Runs the doorbell after the answer where the runtime allows (waitUntil), else awaits it. */
  later: (work: Promise<unknown>) => Promise<void> = (work) => work.then(() => undefined),
): Promise<{ changed: boolean; isNew: boolean }> {
  const result = await lifecycle.signUp(
    deps,
    record,
    now,
    now - CONFIRMATION_INTERVAL_MS,
    await suppressionHash(record.email),
  )
  if (result.outbox.length > 0) await later(ring(deps.db, mail, result.outbox))
  return { changed: result.changed.length > 0, isNew: result.isNew }
}

/** What sending a confirmation needs from the outside world. */
export interface ConfirmationDeps extends MailContext {
  confirmation: EmailTemplate
  /** The newsletter's own confirmation, for a confirmed subscriber who asked for it. */
  newsletterConfirmation: EmailTemplate
}

/** What became of one queued confirmation. */
export type ConfirmationOutcome = SendOutcome | { ok: 'stale' }

/**
 * Sends the confirmations of several claims, each under its own idempotency key so a retry never
 * sends one twice; a claim that went stale (the subscriber confirmed, left, or signed up again
 * since) sends nothing. D1 is read once and written once for the whole batch.
 */
export async function sendConfirmations(
  deps: ConfirmationDeps,
  jobs: ConfirmationJob[],
  now: number,
): Promise<ConfirmationOutcome[]> {
  if (jobs.length === 0) return []
  const subscribers = await getSubscribers(deps.db, [...new Set(jobs.map((j) => j.subscriberId))])
  const live = jobs.flatMap((job, index) => {
    const s = subscribers.get(job.subscriberId)
    const waiting = job.topic === 'newsletter' ? s?.newsletter === 'pending' : s?.status === 'pending'
    return s && waiting && s.confirmation_sent_at === job.claimedAt ? [{ job, index, s }] : []
  })
  const items = await Promise.all(
    live.map(async ({ job, s }) => {
      const links = await subscriberLinks(
        deps.signingKey,
        deps.origin,
        s.id,
        now,
        ['confirm', 'unsubscribe'],
        job.round,
        // Nothing has started yet: the confirmation's one-click leaves everything the signup asked
        // for (the newsletter's, only the newsletter: the course goes on).
        job.topic ?? 'all',
      )
      const email = subscriberEmail(
        job.topic === 'newsletter' ? deps.newsletterConfirmation : deps.confirmation,
        {
          greeting: greeting(s.first_name),
          course_title: deps.settings.courses[s.course]?.title ?? deps.settings.name,
          newsletter_title: newsletterOf(deps.settings).title,
          confirm_url: links.confirm,
        },
        { to: s.email, from: deps.from, unsubscribeUrl: links.unsubscribe },
        [{ name: 'type', value: 'confirmation' }],
      )
      return { email, idempotencyKey: `confirm-${s.id}-${job.claimedAt}` }
    }),
  )
  const sent = await deps.mailer.sendEach(items)
  const outcomes: ConfirmationOutcome[] = jobs.map(() => ({ ok: 'stale' }))
  live.forEach(({ index }, i) => {
    outcomes[index] = sent[i] as SendOutcome
  })
  await recordEvents(
    deps.db,
    live.flatMap(({ s }, i) => {
      const o = sent[i]
      return o?.ok ? [{ subscriberId: s.id, type: 'confirmation_sent', at: now, data: { message_id: o.id } }] : []
    }),
  )
  return outcomes
}
