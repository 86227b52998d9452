import { greeting, listOf, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import type { SendOutcome } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'
import { subscriberLinks } from '../subscribers/links'
import { getSubscribers } from '../subscribers/store'
import type { CompletionJob } from './deliver'

/** What the closing email needs. */
export interface CompletionDeps extends MailContext {
  template: EmailTemplate
  /** Where a course's essay can be read again. */
  essayPath(course: string): string
}

/**
 * Sends the short closing email to subscribers who received their last lesson (and have not left
 * since); one idempotency key per subscriber and batch, so a retry never sends it twice.
 */
export async function sendCompletions(
  deps: CompletionDeps,
  jobs: CompletionJob[],
  now: number,
): Promise<(SendOutcome | { ok: 'stale' })[]> {
  if (jobs.length === 0) return []
  const subs = await getSubscribers(
    deps.db,
    jobs.map((j) => j.subscriberId),
  )
  const live = jobs.flatMap((job, index) => {
    const s = subs.get(job.subscriberId)
    return s && s.status === 'completed' ? [{ job, index, s }] : []
  })
  const items = await Promise.all(
    live.map(async ({ job, s }) => {
      const links = await subscriberLinks(deps.signingKey, deps.origin, s.id, now, ['unsubscribe', 'preferences'])
      const values = {
        greeting: greeting(s.first_name),
        course_title: deps.settings.courses[s.course]?.title ?? deps.settings.name,
        web_url: `${deps.origin}${deps.essayPath(s.course)}`,
        preferences_url: links.preferences,
      }
      const email = subscriberEmail(
        deps.template,
        values,
        {
          to: s.email,
          from: deps.from,
          unsubscribeUrl: links.unsubscribe,
          list: listOf(deps.settings, s.course, deps.settings.courses[s.course]?.title ?? s.course),
        },
        [{ name: 'type', value: 'completion' }],
      )
      return { email, idempotencyKey: `complete-${s.id}-${job.batchKey}` }
    }),
  )
  const sent = await deps.mailer.sendEach(items)
  const outcomes: (SendOutcome | { ok: 'stale' })[] = jobs.map(() => ({ ok: 'stale' }))
  live.forEach(({ index }, i) => {
    outcomes[index] = sent[i] as SendOutcome
  })
  return outcomes
}
