/** D1 storage of the course: claiming due subscribers, and the deliveries of lessons. */

/** One lesson for one subscriber. */
export interface LessonPair {
  subscriberId: string
  lesson: number
}

/** A subscriber whose next lesson is due, as the dispatcher claimed it. */
export interface DueSubscriber {
  id: string
  course: string
  lesson_position: number
}

/**
 * Leases up to `limit` active subscribers whose next lesson is due at `now` and who are not
 * leased already. One statement: two overlapping cron runs never claim the same subscriber.
 */
export async function claimDue(db: D1Database, now: number, leaseMs: number, limit: number): Promise<DueSubscriber[]> {
  const { results } = await db
    .prepare(
      `UPDATE subscribers SET lease_until = ?1 + ?2
       WHERE id IN (
         SELECT id FROM subscribers
         WHERE status = 'active' AND next_send_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
         ORDER BY next_send_at LIMIT ?3)
       RETURNING id, course, lesson_position`,
    )
    .bind(now, leaseMs, limit)
    .all<DueSubscriber>()
  return results
}

/** A delivery row. */
export interface Delivery {
  subscriber_id: string
  lesson: number
  status: 'sending' | 'sent'
  batch_key: string
}

/** The deliveries already recorded for some pairs. */
export async function deliveriesFor(db: D1Database, pairs: LessonPair[]): Promise<Delivery[]> {
  if (pairs.length === 0) return []
  const { results } = await db
    .prepare(
      `SELECT d.subscriber_id, d.lesson, d.status, d.batch_key FROM deliveries d
       JOIN json_each(?) j ON d.subscriber_id = j.value ->> '$.subscriberId' AND d.lesson = j.value ->> '$.lesson'`,
    )
    .bind(JSON.stringify(pairs))
    .all<Delivery>()
  return results
}

/** A provider batch as first attempted. */
export interface LessonBatch {
  batchKey: string
  course: string
  pairs: LessonPair[]
  dispatchedAt: number
}

/**
 * Records the intent to send a batch, before calling the provider: one 'sending' delivery per pair
 * and the batch's composition. A pair already taken by another batch stays with it. Returns the
 * batch as stored: the pairs it owns, in the order every attempt will send them.
 */
export async function recordIntent(db: D1Database, b: LessonBatch, now: number): Promise<LessonBatch | undefined> {
  const insert = db.prepare(
    `INSERT INTO deliveries (subscriber_id, lesson, course, status, batch_key, created_at)
     VALUES (?, ?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING`,
  )
  const composition = db
    .prepare(
      `INSERT INTO lesson_batches (batch_key, course, pairs, dispatched_at, created_at)
       SELECT ?1, ?2, json_group_array(json_object('subscriberId', subscriber_id, 'lesson', lesson)), ?3, ?4
       FROM (SELECT subscriber_id, lesson FROM deliveries WHERE batch_key = ?1 ORDER BY subscriber_id, lesson) WHERE true
       ON CONFLICT DO NOTHING`,
    )
    .bind(b.batchKey, b.course, b.dispatchedAt, now)
  await db.batch([...b.pairs.map((p) => insert.bind(p.subscriberId, p.lesson, b.course, b.batchKey, now)), composition])
  return getBatch(db, b.batchKey)
}

/** A batch recorded earlier, by key. */
export async function getBatch(db: D1Database, batchKey: string): Promise<LessonBatch | undefined> {
  const row = await db
    .prepare('SELECT batch_key, course, pairs, dispatched_at FROM lesson_batches WHERE batch_key = ?')
    .bind(batchKey)
    .first<{ batch_key: string; course: string; pairs: string; dispatched_at: number }>()
  return row
    ? {
        batchKey: row.batch_key,
        course: row.course,
        pairs: JSON.parse(row.pairs) as LessonPair[],
        dispatchedAt: row.dispatched_at,
      }
    : undefined
}

/** What to write once the provider accepted a batch: each pair's message id and its next lesson time. */
export interface SentLesson extends LessonPair {
  messageId: string | null
  /** When the following lesson is due; null after the last lesson. */
  nextSendAt: number | null
}

/**
 * Marks a batch sent and moves each subscriber on, in one transaction: lesson n recorded, position
 * n, next lesson due (or completed after the last), lease released. A subscriber who paused or
 * left in the meantime keeps that state.
 */
export async function recordSent(db: D1Database, batchKey: string, sent: SentLesson[], now: number): Promise<void> {
  const delivered = db.prepare(
    `UPDATE deliveries SET status = 'sent', message_id = ?, sent_at = ? WHERE subscriber_id = ? AND lesson = ? AND batch_key = ?`,
  )
  const advance = db.prepare(
    `UPDATE subscribers SET lesson_position = ?2, lease_until = NULL, updated_at = ?4,
       next_send_at = CASE WHEN status = 'active' THEN ?3 ELSE next_send_at END,
       status = CASE WHEN ?3 IS NULL AND status IN ('active', 'paused') THEN 'completed' ELSE status END
     WHERE id = ?1 AND lesson_position = ?2 - 1`,
  )
  await db.batch(
    sent.flatMap((s) => [
      delivered.bind(s.messageId, now, s.subscriberId, s.lesson, batchKey),
      advance.bind(s.subscriberId, s.lesson, s.nextSendAt, now),
    ]),
  )
}
