/** Resend's webhook events, and what they change. */
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
  data: { email_id?: string; to?: unknown; bounce?: { type?: string } }
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

/**
 * Records one event (once per webhook message id) and, for a hard bounce or a complaint, stops
 * every subscription of the address (the lifecycle's `stopAddress`), in one D1 transaction. An
 * address erased at the person's request is not stored again: the event is kept without it.
 * Returns false for a duplicate, and the jobs the stop left for the queue.
 */
export async function recordEmailEvent(
  deps: LifecycleDeps,
  messageId: string,
  e: EmailEvent,
  now: number,
): Promise<{ recorded: boolean; outbox: OutboxRow[] }> {
  const { db } = deps
  const address = recipients(e)?.[0]
  const hash = address ? await suppressionHash(address) : undefined
  const erased = hash
    ? (await db.prepare("SELECT 1 FROM suppressions WHERE email_hash = ? AND reason = 'erased'").bind(hash).first()) !==
      null
    : false
  const to = erased ? null : (address ?? null)
  const occurred = Date.parse(e.created_at)
  const insert = db
    .prepare(
      `INSERT INTO email_events (id, type, email_id, to_address, subscriber_id, occurred_at, received_at, data)
       VALUES (?1, ?2, ?3, ?4,
         coalesce((SELECT subscriber_id FROM deliveries WHERE message_id = ?3 LIMIT 1),
                  (SELECT subscriber_id FROM broadcast_recipients WHERE message_id = ?3 LIMIT 1),
                  (SELECT id FROM subscribers WHERE email_normalized = ?4 ORDER BY updated_at DESC LIMIT 1)),
         ?5, ?6, ?7)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(
      messageId,
      e.type,
      e.data.email_id ?? null,
      to,
      Number.isNaN(occurred) ? now : occurred,
      now,
      // The provider's data names the recipient; an erased one is left out.
      JSON.stringify(erased ? { ...e.data, to: undefined } : e.data),
    )
  const stop = stopsMail(e)
  const statements = [insert]
  if (stop && address && hash && !erased) statements.push(...stopAddress(deps, address, hash, stop, now))
  const results = await db.batch<Record<string, unknown>>(statements)
  const outbox = results.flatMap((r) =>
    (r.results ?? []).flatMap((row) =>
      'outbox_id' in row ? [{ outbox_id: Number(row.outbox_id), outbox_body: String(row.outbox_body) }] : [],
    ),
  )
  return { recorded: (results[0]?.meta.changes ?? 0) > 0, outbox }
}
