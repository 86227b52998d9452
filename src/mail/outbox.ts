import type { Mailer, OutgoingEmail, SentEmail } from './mailer'

/** One email kept in the outbox, as /dev/outbox shows it. */
export interface OutboxEmail extends OutgoingEmail {
  id: string
  createdAt: number
}

interface OutboxRow {
  id: string
  created_at: number
  from_address: string
  to_address: string
  subject: string
  headers: string
  html: string
  text: string
  tags: string
}

// A repeated key changes nothing and returns the first receipt, as Resend's idempotency does.
const INSERT = `INSERT INTO outbox (id, idempotency_key, created_at, from_address, to_address, subject, headers, html, text, tags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = excluded.idempotency_key
RETURNING id`

/** The mailer of local runs and tests: every email goes into D1's `outbox` table instead of out. */
export function outboxMailer(db: D1Database, now: () => number = Date.now): Mailer {
  const store = async (items: { email: OutgoingEmail; key: string }[]): Promise<SentEmail[]> => {
    if (items.length === 0) return [] // D1 refuses an empty batch
    const at = now()
    const results = await db.batch<{ id: string }>(
      items.map(({ email: e, key }) =>
        db
          .prepare(INSERT)
          .bind(
            crypto.randomUUID(),
            key,
            at,
            e.from,
            e.to,
            e.subject,
            JSON.stringify(e.replyTo ? { ...e.headers, 'Reply-To': e.replyTo } : e.headers),
            e.html,
            e.text,
            JSON.stringify(e.tags ?? []),
          ),
      ),
    )
    return results.map((r) => ({ id: r.results[0]?.id ?? '' }))
  }
  return {
    kind: 'outbox',
    async sendEach(items) {
      const sent = await store(items.map((i) => ({ email: i.email, key: i.idempotencyKey })))
      return sent.map((s) => ({ ok: true, id: s.id }))
    },
    sendBatch: (emails, key) => store(emails.map((email, i) => ({ email, key: `${key}#${i}` }))),
  }
}

const fromRow = (r: OutboxRow): OutboxEmail => ({
  id: r.id,
  createdAt: r.created_at,
  from: r.from_address,
  to: r.to_address,
  subject: r.subject,
  headers: JSON.parse(r.headers) as Record<string, string>,
  html: r.html,
  text: r.text,
  tags: JSON.parse(r.tags) as { name: string; value: string }[],
})

/** The newest emails in the outbox, newest first. */
export async function listOutbox(db: D1Database, limit = 100): Promise<OutboxEmail[]> {
  const { results } = await db
    .prepare('SELECT * FROM outbox ORDER BY created_at DESC, rowid DESC LIMIT ?')
    .bind(limit)
    .all<OutboxRow>()
  return results.map(fromRow)
}

/** One email of the outbox by id. */
export async function getOutboxEmail(db: D1Database, id: string): Promise<OutboxEmail | undefined> {
  const row = await db.prepare('SELECT * FROM outbox WHERE id = ?').bind(id).first<OutboxRow>()
  return row ? fromRow(row) : undefined
}
