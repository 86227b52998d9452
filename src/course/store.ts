/** D1 storage of the course: claiming due subscribers, and the deliveries of lessons. */

/** One lesson for one subscriber, in one round of their course. */
export interface LessonPair {
  subscriberId: string
  /** The subscriber's course_round when the lesson was dispatched. */
  round: number
  lesson: number
}

/** A subscriber whose next lesson is due, as the dispatcher claimed it. */
export interface DueSubscriber {
  id: string
  course: string
  course_round: number
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
       RETURNING id, course, course_round, lesson_position`,
    )
    .bind(now, leaseMs, limit)
    .all<DueSubscriber>()
  return results
}

/** A delivery row. */
export interface Delivery {
  subscriber_id: string
  round: number
  lesson: number
  status: 'sending' | 'sent'
  batch_key: string
}

/** The deliveries already recorded for some pairs. */
export async function deliveriesFor(db: D1Database, pairs: LessonPair[]): Promise<Delivery[]> {
  if (pairs.length === 0) return []
  const { results } = await db
    .prepare(
      `SELECT d.subscriber_id, d.round, d.lesson, d.status, d.batch_key FROM deliveries d
       JOIN json_each(?) j ON d.subscriber_id = j.value ->> '$.subscriberId' AND d.round = j.value ->> '$.round'
         AND d.lesson = j.value ->> '$.lesson'`,
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
    `INSERT INTO deliveries (subscriber_id, round, lesson, course, status, batch_key, created_at)
     VALUES (?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING`,
  )
  const composition = db
    .prepare(
      `INSERT INTO lesson_batches (batch_key, course, pairs, dispatched_at, created_at)
       SELECT ?1, ?2, json_group_array(json_object('subscriberId', subscriber_id, 'round', round, 'lesson', lesson)), ?3, ?4
       FROM (SELECT subscriber_id, round, lesson FROM deliveries WHERE batch_key = ?1 ORDER BY subscriber_id, round, lesson)
       WHERE true
       ON CONFLICT DO NOTHING`,
    )
    .bind(b.batchKey, b.course, b.dispatchedAt, now)
  await db.batch([
    ...b.pairs.map((p) => insert.bind(p.subscriberId, p.round, p.lesson, b.course, b.batchKey, now)),
    composition,
  ])
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
 * The statements that mark a batch's deliveries sent; the lifecycle runs them in the same
 * transaction as the subscribers moving on (`lessonsSent`).
 */
export function deliveredStatements(db: D1Database, batchKey: string, sent: SentLesson[], now: number) {
  const delivered = db.prepare(
    `UPDATE deliveries SET status = 'sent', message_id = ?, sent_at = ?
     WHERE subscriber_id = ? AND round = ? AND lesson = ? AND batch_key = ?`,
  )
  return sent.map((s) => delivered.bind(s.messageId, now, s.subscriberId, s.round, s.lesson, batchKey))
}

/**
 * Gives up the pairs of a batch that are no longer owed when it is retried (the subscriber left,
 * paused, was stopped by a bounce or complaint, or restarted the course): their 'sending' rows go,
 * and the lease with them, so nothing more is sent to them in that round.
 */
export async function dropPairs(db: D1Database, batchKey: string, pairs: LessonPair[]): Promise<void> {
  if (pairs.length === 0) return
  const drop = db.prepare(
    `DELETE FROM deliveries WHERE subscriber_id = ? AND round = ? AND lesson = ? AND batch_key = ? AND status = 'sending'`,
  )
  const release = db.prepare('UPDATE subscribers SET lease_until = NULL WHERE id = ? AND course_round = ?')
  await db.batch(
    pairs.flatMap((p) => [
      drop.bind(p.subscriberId, p.round, p.lesson, batchKey),
      release.bind(p.subscriberId, p.round),
    ]),
  )
}
