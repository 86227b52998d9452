import { greeting, listOf, subscriberEmail } from '../mail/compose'
import type { MailContext } from '../mail/config'
import { MailerError, type OutgoingEmail } from '../mail/mailer'
import type { EmailTemplate } from '../site/manifest'
import { clickToken, subscriberLinks } from '../subscribers/links'
import { getSubscribers, type Subscriber } from '../subscribers/store'
import { newsletterOf } from '../ui/types'
import type { BroadcastJob } from './dispatch'
import {
  type Broadcast,
  batchRecipients,
  getBroadcast,
  markFailed,
  markSent,
  type Recipient,
  recipientsOf,
  recordIntent,
  release,
  requeue,
  settle,
  skip,
} from './store'

/** What sending a broadcast needs from the outside world. */
export interface BroadcastDeps extends MailContext {
  /** The compiled email of a published essay or letter; undefined when it is no longer published. */
  template(path: string): Promise<EmailTemplate | undefined>
}

/** Why a recipient taken at scheduling no longer gets it. */
function dropReason(s: Subscriber | undefined): string | undefined {
  if (!s) return 'erased'
  if (s.status === 'bounced' || s.status === 'complained') return s.status
  if (s.newsletter !== 'active') return 'left-newsletter'
  return undefined
}

/** One reader's email: the template with their greeting and signed links, and the newsletter's headers. */
export async function renderBroadcast(
  deps: MailContext,
  template: EmailTemplate,
  b: Pick<Broadcast, 'id'>,
  s: Pick<Subscriber, 'id' | 'email' | 'first_name'>,
  now: number,
  links?: { unsubscribe: string; preferences: string; click: string },
): Promise<OutgoingEmail> {
  const signed = links ?? {
    ...(await subscriberLinks(
      deps.signingKey,
      deps.origin,
      s.id,
      now,
      ['unsubscribe', 'preferences'],
      undefined,
      'newsletter',
    )),
    click: await clickToken(deps.signingKey, s.id, `broadcast:${b.id}`, now),
  }
  return subscriberEmail(
    template,
    {
      greeting: greeting(s.first_name),
      preferences_url: signed.preferences,
      site_url: deps.origin,
      campaign: b.id,
      click: signed.click,
    },
    {
      to: s.email,
      from: deps.from,
      unsubscribeUrl: signed.unsubscribe,
      list: listOf(deps.settings, 'newsletter', newsletterOf(deps.settings).title),
    },
    [
      { name: 'type', value: 'broadcast' },
      { name: 'broadcast', value: b.id },
      // Resend's webhooks echo the tags: the event finds its receipt by them.
      { name: 'subscriber', value: s.id },
    ],
  )
}

/**
 * Sends one recorded provider batch and records the outcome. The same batch always goes as the
 * same request under the same key, so a retry after a lost answer is deduplicated by the provider.
 */
async function sendRecorded(
  deps: BroadcastDeps,
  b: Broadcast,
  key: string,
  now: number,
  sentAt: number,
  known?: Recipient[],
) {
  const rows = (known ?? (await batchRecipients(deps.db, key))).filter((r) => r.status === 'sending')
  if (rows.length === 0) return 0
  const subs = await getSubscribers(
    deps.db,
    rows.map((r) => r.subscriber_id),
  )
  // Whoever left, bounced or complained since the broadcast was scheduled does not get it.
  const drops = rows.flatMap((r) => {
    const reason = dropReason(subs.get(r.subscriber_id))
    return reason ? [{ id: r.subscriber_id, reason }] : []
  })
  await skip(deps.db, b.id, drops)
  const owed = rows.filter((r) => !dropReason(subs.get(r.subscriber_id)))
  if (owed.length === 0) return 0
  const template = await deps.template(b.path)
  if (!template) {
    await markFailed(deps.db, key, `${b.path} is no longer published`)
    return 0
  }
  const emails = await Promise.all(
    owed.map((r) => renderBroadcast(deps, template, b, subs.get(r.subscriber_id) as Subscriber, now)),
  )
  let ids: (string | null)[]
  try {
    ids = (await deps.mailer.sendBatch(emails, key)).map((r) => r.id)
  } catch (err) {
    if (!(err instanceof MailerError)) throw err
    // 409: this key went before with a different body (someone dropped out since): it was sent.
    if (err.status === 409) ids = owed.map(() => null)
    else if (!err.retryable && err.status !== undefined) {
      await markFailed(deps.db, key, err.message)
      return 0
    } else {
      // A 429 says nothing was sent: the batch is undone, so a cancel or pause before the retry
      // stops it. Any other failure (5xx, a lost answer) may have sent it: it stays recorded, and
      // is sent again under the same key.
      if (err.status === 429) await requeue(deps.db, key)
      throw err
    }
  }
  await markSent(
    deps.db,
    key,
    owed.map((r, i) => ({ id: r.subscriber_id, messageId: ids[i] ?? null })),
    sentAt,
  )
  return owed.length
}

/**
 * Delivers one BROADCAST message (recording it as sent at the job's dispatch time, the cron's
 * "now", as the one-email-a-day rule counts days). A cancelled broadcast sends nothing more: its
 * recipients not yet sent are skipped (one whose batch's answer was lost may have had it). A
 * paused one sends nothing until resumed: queued recipients go back to the cron, a batch whose
 * answer was lost stays recorded. Otherwise it first finishes any batch an earlier attempt left
 * half-done, under its key, then sends to those still queued. A provider error is thrown for the
 * queue to retry; nobody gets it twice.
 */
export async function deliverBroadcast(deps: BroadcastDeps, job: BroadcastJob, now: number): Promise<number> {
  const b = await getBroadcast(deps.db, job.broadcastId)
  if (!b) return 0
  const rows = await recipientsOf(deps.db, b.id, job.subscriberIds)
  const queued = rows.filter((r) => r.status === 'queued').map((r) => r.subscriber_id)
  const recorded = rows.filter((r) => r.status === 'sending')
  if (b.status === 'cancelled') {
    const rest = [...queued, ...recorded.map((r) => r.subscriber_id)]
    await skip(
      deps.db,
      b.id,
      rest.map((id) => ({ id, reason: 'cancelled' })),
    )
    await settle(deps.db, b.id, now)
    return 0
  }
  if (b.status === 'paused') {
    await release(deps.db, b.id, queued)
    return 0
  }
  let sent = 0
  for (const key of new Set(recorded.map((r) => r.batch_key as string)))
    sent += await sendRecorded(deps, b, key, now, job.dispatchedAt)
  if (queued.length > 0) {
    const key = `broadcast-${b.id}-${crypto.randomUUID()}`
    sent += await sendRecorded(deps, b, key, now, job.dispatchedAt, await recordIntent(deps.db, b.id, queued, key))
  }
  await settle(deps.db, b.id, now)
  return sent
}
