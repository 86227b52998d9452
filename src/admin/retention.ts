/**
 * Data minimisation, once a day: what a finished send no longer needs is compacted, and the raw
 * history past its retention period goes. Figures do not move: stats read counters, which the
 * triggers of migration 0012 kept as the rows were written.
 *
 * - A broadcast's recipient rows, and the course's delivery rows and batch compositions, are what
 *   makes a send exactly once; once it is certainly done (finished three days ago, past every
 *   queue retry and the one-email-a-day check), each email lives on as a receipt.
 * - Receipts, first-party clicks, bounces and complaints, history lines and dead letters older than
 *   `retention.rawMonths` (13) go.
 */
import { rawMonthsOf, type SiteSettings } from '../ui/types'

/** How long after a send the rows that made it exactly once are kept. */
export const COMPACT_AFTER_MS = 3 * 86_400_000
/** Rows deleted per statement, so that no statement holds the database for long. */
const CHUNK = 5_000
/** Subscriber numbers per statement when pruning the receipts (their key starts with it). */
const SPAN = 20_000

/** The time `months` calendar months before `now`. */
export function monthsBefore(now: number, months: number): number {
  const d = new Date(now)
  d.setUTCMonth(d.getUTCMonth() - months)
  return d.getTime()
}

/** Runs a chunked DELETE until it deletes nothing more; returns the rows deleted. */
async function drain(statement: D1PreparedStatement): Promise<number> {
  let total = 0
  for (;;) {
    const n = (await statement.run()).meta.changes ?? 0
    total += n
    if (n < CHUNK) return total
  }
}

export interface RetentionReport {
  broadcastRecipients: number
  deliveries: number
  lessonBatches: number
  receipts: number
  clicks: number
  trouble: number
  history: number
  deadLetters: number
}

/** The day's compaction and retention (the 04:00 UTC cron). */
export async function applyRetention(db: D1Database, site: SiteSettings, now: number): Promise<RetentionReport> {
  const done = now - COMPACT_AFTER_MS
  const cutoff = monthsBefore(now, rawMonthsOf(site))
  const report: RetentionReport = {
    broadcastRecipients: 0,
    deliveries: 0,
    lessonBatches: 0,
    receipts: 0,
    clicks: 0,
    trouble: 0,
    history: 0,
    deadLetters: 0,
  }
  const { results: finished } = await db
    .prepare(
      `SELECT id FROM broadcasts WHERE status IN ('sent', 'cancelled') AND coalesce(finished_at, updated_at) < ?1
         AND EXISTS (SELECT 1 FROM broadcast_recipients WHERE broadcast_id = broadcasts.id)`,
    )
    .bind(done)
    .all<{ id: string }>()
  for (const { id } of finished)
    report.broadcastRecipients += await drain(
      db
        .prepare(
          `DELETE FROM broadcast_recipients WHERE broadcast_id = ?1 AND subscriber_id IN
             (SELECT subscriber_id FROM broadcast_recipients WHERE broadcast_id = ?1 LIMIT ?2)`,
        )
        .bind(id, CHUNK),
    )
  report.deliveries = await drain(
    db
      .prepare(
        `DELETE FROM deliveries WHERE rowid IN
           (SELECT rowid FROM deliveries WHERE status = 'sent' AND sent_at < ?1 LIMIT ?2)`,
      )
      .bind(done, CHUNK),
  )
  report.lessonBatches = await drain(
    db
      .prepare(
        `DELETE FROM lesson_batches WHERE rowid IN
           (SELECT rowid FROM lesson_batches b WHERE b.created_at < ?1
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.batch_key = b.batch_key) LIMIT ?2)`,
      )
      .bind(done, CHUNK),
  )
  // Past the raw history period. The compact tables' keys start with the subscriber's number, so
  // they are pruned a span of subscribers at a time.
  const top = (await db.prepare('SELECT coalesce(max(num), 0) AS n FROM subscribers').first<{ n: number }>())?.n ?? 0
  for (let from = 0; from <= top; from += SPAN) {
    const [receipts, clicks] = await db.batch([
      db
        .prepare('DELETE FROM receipts WHERE subscriber >= ?1 AND subscriber < ?2 AND sent_at < ?3')
        .bind(from, from + SPAN, cutoff),
      db
        .prepare('DELETE FROM link_clicks WHERE subscriber >= ?1 AND subscriber < ?2 AND at < ?3')
        .bind(from, from + SPAN, cutoff),
    ])
    report.receipts += receipts?.meta.changes ?? 0
    report.clicks += clicks?.meta.changes ?? 0
  }
  report.trouble = (await db.prepare('DELETE FROM trouble WHERE at < ?1').bind(cutoff).run()).meta.changes ?? 0
  report.history = await drain(
    db
      .prepare('DELETE FROM subscriber_events WHERE id IN (SELECT id FROM subscriber_events WHERE at < ?1 LIMIT ?2)')
      .bind(cutoff, CHUNK),
  )
  report.deadLetters = await drain(
    db
      .prepare('DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE received_at < ?1 LIMIT ?2)')
      .bind(cutoff, CHUNK),
  )
  return report
}
