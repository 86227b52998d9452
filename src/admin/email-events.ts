/** Resend's webhook events, and what they change. */

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
  data: { email_id?: string; to?: string[] | string; bounce?: { type?: string } }
}

/** Hard bounces and complaints end all mail to the address, at once and for good. */
export function stopsMail(e: EmailEvent): 'bounced' | 'complained' | undefined {
  if (e.type === 'email.complained') return 'complained'
  if (e.type === 'email.bounced' && (e.data.bounce?.type ?? 'Permanent') === 'Permanent') return 'bounced'
  return undefined
}

const recipients = (e: EmailEvent) => [e.data.to ?? []].flat().map((a) => a.trim().toLowerCase())

/**
 * Records one event (once per webhook message id) and, for a hard bounce or a complaint, stops
 * every subscription of the address. One D1 transaction. Returns false for a duplicate.
 */
export async function recordEmailEvent(
  db: D1Database,
  messageId: string,
  e: EmailEvent,
  now: number,
): Promise<boolean> {
  const to = recipients(e)[0] ?? null
  const occurred = Date.parse(e.created_at)
  const insert = db
    .prepare(
      `INSERT INTO email_events (id, type, email_id, to_address, subscriber_id, occurred_at, received_at, data)
       VALUES (?1, ?2, ?3, ?4,
         coalesce((SELECT subscriber_id FROM deliveries WHERE message_id = ?3 LIMIT 1),
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
      JSON.stringify(e.data),
    )
  const stop = stopsMail(e)
  const statements = [insert]
  if (stop && to)
    statements.push(
      db
        .prepare(
          `UPDATE subscribers SET status = ?1, next_send_at = NULL, lease_until = NULL, updated_at = ?3
           WHERE email_normalized = ?2 AND status NOT IN ('bounced', 'complained')`,
        )
        .bind(stop, to, now),
    )
  const [inserted] = await db.batch(statements)
  return (inserted?.meta.changes ?? 0) > 0
}
