import { greeting, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import type { SendOutcome } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'
import { subscriberLinks } from './links'
import { getSubscribers } from './store'
import { sunsetOf } from './sunset'

/** A job on the MAIL queue: ask one quiet reader whether they still want our emails. */
export interface ReengagementJob {
  kind: 'reengagement'
  subscriberId: string
  /** When they were asked; a later answer (or a new question) makes this job stale. */
  askedAt: number
}

/**
 * Sends the re-engagement emails, each under its own idempotency key; a reader who answered since
 * (or was erased) gets nothing. Its button keeps them; its one-click unsubscribe leaves everything.
 */
export async function sendReengagements(
  deps: MailContext & { template: EmailTemplate },
  jobs: ReengagementJob[],
  now: number,
): Promise<(SendOutcome | { ok: 'stale' })[]> {
  const subs = await getSubscribers(deps.db, [...new Set(jobs.map((j) => j.subscriberId))])
  const grace = sunsetOf(deps.settings)?.graceDays ?? 7
  const live = jobs.flatMap((job, index) => {
    const s = subs.get(job.subscriberId)
    return s && s.sunset_asked_at === job.askedAt ? [{ job, index, s }] : []
  })
  const items = await Promise.all(
    live.map(async ({ job, s }) => {
      const links = await subscriberLinks(
        deps.signingKey,
        deps.origin,
        s.id,
        now,
        ['stay', 'unsubscribe'],
        undefined,
        'all',
      )
      const email = subscriberEmail(
        deps.template,
        { greeting: greeting(s.first_name), stay_url: links.stay, grace_days: String(grace) },
        { to: s.email, from: deps.from, unsubscribeUrl: links.unsubscribe },
        [{ name: 'type', value: 'reengagement' }],
      )
      return { email, idempotencyKey: `reengage-${s.id}-${job.askedAt}` }
    }),
  )
  const sent = await deps.mailer.sendEach(items)
  const outcomes: (SendOutcome | { ok: 'stale' })[] = jobs.map(() => ({ ok: 'stale' }))
  live.forEach(({ index }, i) => {
    outcomes[index] = sent[i] as SendOutcome
  })
  return outcomes
}
