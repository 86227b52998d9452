/**
 * The transactional outbox's two hands. A state change writes its jobs (emails, webhook events)
 * into `queue_outbox` in its own D1 transaction; then:
 * - `ring`, the doorbell, hands them to the queue at once and deletes them. If the queue refuses,
 *   nothing is lost: the rows stay.
 * - `relayOutbox`, on the cron, hands over whatever is older than a grace period (the doorbell
 *   rang but failed, or the Worker stopped between commit and doorbell).
 * Delivery is at least once; every consumer is idempotent (provider idempotency keys, webhook ids).
 */

/** A job waiting in the outbox. */
export interface WaitingJob {
  outbox_id: number
  outbox_body: string
}

/** Queue.sendBatch takes at most 100 messages. */
const QUEUE_BATCH = 100

/** Hands jobs to the queue and forgets them; true when all went. Never throws. */
export async function ring(db: D1Database, queue: Queue, jobs: WaitingJob[]): Promise<boolean> {
  try {
    for (let i = 0; i < jobs.length; i += QUEUE_BATCH) {
      const chunk = jobs.slice(i, i + QUEUE_BATCH)
      await queue.sendBatch(chunk.map((j) => ({ body: JSON.parse(j.outbox_body) as unknown })))
      await db
        .prepare('DELETE FROM queue_outbox WHERE id IN (SELECT value FROM json_each(?))')
        .bind(JSON.stringify(chunk.map((j) => j.outbox_id)))
        .run()
    }
    return true
  } catch (err) {
    // The jobs are safe in D1; the relay hands them over on its next run.
    console.error(`outbox: ${jobs.length} job(s) left for the relay:`, err instanceof Error ? err.message : err)
    return false
  }
}

/** Jobs left this long are the relay's: the doorbell has had its chance. */
export const RELAY_GRACE_MS = 60_000

/**
 * The cron's relay: hands every job written before `now - grace` to the queue, oldest first.
 * Returns how many went; stops at the first refusal (the rest wait for the next run).
 */
export async function relayOutbox(db: D1Database, queue: Queue, now: number, graceMs = RELAY_GRACE_MS) {
  let handed = 0
  for (;;) {
    const { results } = await db
      .prepare(
        'SELECT id AS outbox_id, body AS outbox_body FROM queue_outbox WHERE created_at <= ? ORDER BY id LIMIT 500',
      )
      .bind(now - graceMs)
      .all<WaitingJob>()
    if (results.length === 0 || !(await ring(db, queue, results))) return handed
    handed += results.length
  }
}
