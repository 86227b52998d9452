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

const INSERT = `INSERT INTO outbox (id, idempotency_key, created_at, from_address, to_address, subject, headers, html, text, tags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING`

/**
 * The mailer of local runs and tests: every email goes into D1's `outbox` table instead of out.
 * Like Resend, a repeated idempotency key stores nothing new and returns the first receipt.
 */
export function outboxMailer(db: D1Database, now: () => number = Date.now): Mailer {
  const store = async (emails: OutgoingEmail[], idempotencyKey: string): Promise<SentEmail[]> => {
    const at = now()
    const rows = emails.map((e, i) => ({ id: crypto.randomUUID(), key: `${idempotencyKey}#${i}`, e }))
    await db.batch(
      rows.map(({ id, key, e }) =>
        db
          .prepare(INSERT)
          .bind(
            id,
            key,
            at,
            e.from,
            e.to,
            e.subject,
            JSON.stringify(e.headers),
            e.html,
            e.text,
            JSON.stringify(e.tags ?? []),
          ),
      ),
    )
    const stored = await db
      .prepare(`SELECT id, idempotency_key FROM outbox WHERE idempotency_key IN (SELECT value FROM json_each(?))`)
      .bind(JSON.stringify(rows.map((r) => r.key)))
      .all<{ id: string; idempotency_key: string }>()
    const byKey = new Map(stored.results.map((r) => [r.idempotency_key, r.id]))
    return rows.map((r) => ({ id: byKey.get(r.key) ?? r.id }))
  }
  return {
    kind: 'outbox',
    async send(email, idempotencyKey) {
      const [sent] = await store([email], idempotencyKey)
      return sent as SentEmail
    },
    sendBatch: store,
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
