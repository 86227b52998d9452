/** Resend's webhook events, and what they change. */

import { EVENT_BITS, emailKeyOfTags } from '../mail/receipts'
import { type LifecycleDeps, type OutboxRow, stopAddress } from '../subscribers/lifecycle'
import { normalizeEmail } from '../subscribers/store'
import { suppressionHash } from '../subscribers/suppression'

/** The event types Resend sends that this project records. */
export const EMAIL_EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.delivery_delayed',
  'email.opened',
  'email.clicked',
  'email.bounced',
  'email.complained',
  'email.failed',
] as const

/** One Resend webhook event, as much of it as this project reads. */
export interface EmailEvent {
  type: (typeof EMAIL_EVENT_TYPES)[number]
  created_at: string
  data: { email_id?: string; to?: unknown; bounce?: { type?: string }; tags?: unknown }
}

/** Hard bounces and complaints end all mail to the address, at once and for good. */
export function stopsMail(e: EmailEvent): 'bounced' | 'complained' | undefined {
  if (e.type === 'email.complained') return 'complained'
  if (e.type === 'email.bounced' && (e.data.bounce?.type ?? 'Permanent') === 'Permanent') return 'bounced'
  return undefined
}

/** The event's recipients, or undefined when `to` is neither an address nor a list of them. */
export function recipients(e: { data: { to?: unknown } }): string[] | undefined {
  const to = e.data.to ?? []
  const list = Array.isArray(to) ? to : [to]
  return list.every((a): a is string => typeof a === 'string') ? list.map(normalizeEmail) : undefined
}

/** The receipt bit of each event type this project keeps; the others are answered and not stored. */
const BIT_OF: Partial<Record<EmailEvent['type'], number>> = {
  'email.delivered': EVENT_BITS.delivered,
  'email.opened': EVENT_BITS.opened,
  'email.clicked': EVENT_BITS.clicked,
  'email.bounced': EVENT_BITS.bounced,
  'email.complained': EVENT_BITS.complained,
}

/**
 * Records one event on the receipt of the email it is about (found by the tags the email was sent
 * with: which email, and which subscriber; else the latest subscription of the address), once: a
 * redelivered webhook sets a bit already set and changes nothing. Bounces and complaints are kept
 * with their times for the deliverability guard, and a hard bounce or a complaint stops every
 * subscription of the address (the lifecycle's `stopAddress`), all in one D1 transaction. Nothing
 * is stored about an address erased at the person's request. Returns whether it was recorded, a
 * duplicate, or ignored (a type not kept, an erased address), and the jobs the stop left for the queue.
 */
export async function recordEmailEvent(
  deps: LifecycleDeps,
  e: EmailEvent,
  now: number,
): Promise<{ status: 'recorded' | 'duplicate' | 'ignored'; outbox: OutboxRow[] }> {
  const { db } = deps
  const address = recipients(e)?.[0]
  const bit = BIT_OF[e.type]
  if (!address || bit === undefined) return { status: 'ignored', outbox: [] }
  const hash = await suppressionHash(address)
  const erased =
    (await db.prepare("SELECT 1 FROM suppressions WHERE email_hash = ? AND reason = 'erased'").bind(hash).first()) !==
    null
  if (erased) return { status: 'ignored', outbox: [] }
  const tags = e.data.tags && typeof e.data.tags === 'object' ? (e.data.tags as Record<string, unknown>) : undefined
  const key = emailKeyOfTags(tags)
  const tagged = typeof tags?.subscriber === 'string' ? tags.subscriber : null
  const occurred = Date.parse(e.created_at)
  const at = Number.isNaN(occurred) ? now : occurred
  // The subscriber the email went to, and the email: the receipt's key.
  const whose = `FROM subscribers s, emails m
     WHERE s.id = coalesce((SELECT id FROM subscribers WHERE id = ?1 AND email_normalized = ?2),
                           (SELECT id FROM subscribers WHERE email_normalized = ?2 ORDER BY updated_at DESC LIMIT 1))
       AND m.key = ?3`
  const stop = stopsMail(e)
  const statements = [
    // Index 0: whether the address is anybody's we hold (an event about nobody is ignored).
    db.prepare(`SELECT s.num FROM subscribers s WHERE s.email_normalized = ?1 LIMIT 1`).bind(address),
    db
      .prepare(
        'INSERT OR IGNORE INTO emails (key) SELECT ?2 WHERE EXISTS (SELECT 1 FROM subscribers WHERE email_normalized = ?1)',
      )
      .bind(address, key),
    db
      .prepare(
        `INSERT INTO receipts (subscriber, email, sent_at, events) SELECT s.num, m.num, ?4, ?5 ${whose}
         ON CONFLICT DO UPDATE SET events = events | excluded.events WHERE events & excluded.events = 0`,
      )
      .bind(tagged, address, key, at, bit),
  ]
  if (e.type === 'email.bounced' || e.type === 'email.complained')
    // Index 3: the guard's evidence.
    statements.push(
      db
        .prepare(
          `INSERT INTO trouble (subscriber, email, type, hard, at, received_at) SELECT s.num, m.num, ?4, ?5, ?6, ?7 ${whose}
           ON CONFLICT DO NOTHING`,
        )
        .bind(tagged, address, key, e.type.slice(6), stop === 'bounced' ? 1 : 0, at, now),
    )
  if (stop) statements.push(...stopAddress(deps, address, hash, stop, now))
  const results = await db.batch<Record<string, unknown>>(statements)
  const outbox = results.flatMap((r) =>
    (r.results ?? []).flatMap((row) =>
      'outbox_id' in row ? [{ outbox_id: Number(row.outbox_id), outbox_body: String(row.outbox_body) }] : [],
    ),
  )
  // About nobody we hold: nothing kept, unless it stopped the address for good (its suppression).
  if ((results[0]?.results.length ?? 0) === 0) return { status: stop ? 'recorded' : 'ignored', outbox }
  const changed = (i: number) => (results[i]?.meta.changes ?? 0) > 0
  const trouble = e.type === 'email.bounced' || e.type === 'email.complained'
  return { status: changed(2) || (trouble && changed(3)) ? 'recorded' : 'duplicate', outbox }
}
