/**
 * D1 for broadcasts: the broadcast, its recipients (taken when it is scheduled), and each
 * recipient's way from waiting to sent. Counters follow by trigger (migrations/0008_broadcasts.sql).
 */

/** Where a broadcast is. */
export type BroadcastStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'sent' | 'cancelled'

/** When a broadcast goes: at once, at one time, or at each recipient's local morning. */
export type SendMode = 'now' | 'at' | 'local-morning'

/** A broadcast row. */
export interface Broadcast {
  id: string
  path: string
  status: BroadcastStatus
  send_mode: SendMode | null
  send_at: number | null
  segment: string
  recipients: number
  sent: number
  skipped: number
  failed: number
  skipped_because: string
  paused_reason: string | null
  guard_acknowledged_at: number | null
  created_at: number
  scheduled_at: number | null
  finished_at: number | null
  updated_at: number
}

/** Who of the newsletter's members a broadcast goes to; every key narrows. */
export interface Segment {
  source?: string
  utm_campaign?: string
  /** Signed up at or after (epoch ms). */
  signed_up_from?: number
  /** Signed up before (epoch ms). */
  signed_up_to?: number
  course?: 'in-progress' | 'completed' | 'none'
}

/** One recipient row. */
export interface Recipient {
  broadcast_id: string
  subscriber_id: string
  due_at: number
  status: 'waiting' | 'queued' | 'sending' | 'sent' | 'skipped' | 'failed'
  reason: string | null
  lease_until: number | null
  batch_key: string | null
  message_id: string | null
  sent_at: number | null
}

const newId = () => `bc_${crypto.randomUUID().replace(/-/g, '').slice(0, 20)}`

/** D1 binds at most 100 parameters a statement: lists of ids go in chunks. */
export const ID_CHUNK = 90
export const chunks = <T>(list: T[], size = ID_CHUNK): T[][] => {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}
const marks = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `?${i + from}`).join(', ')

/** A draft for every published essay or letter that has never had a broadcast. */
export async function syncDrafts(db: D1Database, paths: string[], now: number): Promise<void> {
  if (paths.length === 0) return
  const insert = db.prepare(
    `INSERT INTO broadcasts (id, path, status, created_at, updated_at)
     SELECT ?1, ?2, 'draft', ?3, ?3 WHERE NOT EXISTS (SELECT 1 FROM broadcasts WHERE path = ?2)`,
  )
  await db.batch(paths.map((p) => insert.bind(newId(), p, now)))
}

export async function getBroadcast(db: D1Database, id: string): Promise<Broadcast | undefined> {
  return (await db.prepare('SELECT * FROM broadcasts WHERE id = ?').bind(id).first<Broadcast>()) ?? undefined
}

/** Every broadcast, newest first (drafts of unpublished paths are left out by the caller). */
export async function listBroadcasts(db: D1Database): Promise<Broadcast[]> {
  return (await db.prepare('SELECT * FROM broadcasts ORDER BY created_at DESC, id DESC LIMIT 500').all<Broadcast>())
    .results
}

/** The newsletter's members a segment names, as SQL over `subscribers s` and its parameters. */
function segmentSql(segment: Segment, from: number): { sql: string; params: unknown[] } {
  const where: string[] = [
    `s.newsletter = 'active'`,
    `s.status NOT IN ('bounced', 'complained')`,
    // One email per address, whatever number of courses it takes. (The unary + keeps SQLite on the
    // address's index here: the newsletter's partial index would make this quadratic.)
    `NOT EXISTS (SELECT 1 FROM subscribers o WHERE o.email_normalized = s.email_normalized
                 AND +o.newsletter = 'active' AND o.id < s.id)`,
  ]
  const params: unknown[] = []
  const add = (sql: string, value: unknown) => {
    params.push(value)
    where.push(sql.replace('?', `?${from + params.length - 1}`))
  }
  if (segment.source !== undefined) add('s.source = ?', segment.source)
  if (segment.utm_campaign !== undefined) add('s.utm_campaign = ?', segment.utm_campaign)
  if (segment.signed_up_from !== undefined) add('s.created_at >= ?', segment.signed_up_from)
  if (segment.signed_up_to !== undefined) add('s.created_at < ?', segment.signed_up_to)
  if (segment.course === 'in-progress') where.push(`s.status IN ('active', 'paused')`)
  if (segment.course === 'completed') where.push(`s.status = 'completed'`)
  if (segment.course === 'none') where.push(`s.status NOT IN ('active', 'paused', 'completed')`)
  return { sql: where.join(' AND '), params }
}

/** The time zones of a segment's members (for local morning, each gets its own due time). */
export async function segmentZones(db: D1Database, segment: Segment): Promise<string[]> {
  const { sql, params } = segmentSql(segment, 1)
  const rows = await db
    .prepare(`SELECT DISTINCT s.timezone AS tz FROM subscribers s WHERE ${sql}`)
    .bind(...params)
    .all<{ tz: string }>()
  return rows.results.map((r) => r.tz)
}

/**
 * Schedules a broadcast: the draft of its path (if any) becomes it, or a new one is made, and its
 * recipients are taken now, each with the time it is due (`dueByZone` for local morning, else `dueAt`).
 * One transaction: the recipients and the broadcast appear together.
 */
export async function scheduleBroadcast(
  db: D1Database,
  b: { path: string; mode: SendMode; sendAt: number; segment: Segment; status: 'scheduled' | 'sending' },
  due: { dueAt: number } | { dueByZone: Map<string, number> },
  now: number,
): Promise<Broadcast> {
  const draft = await db
    .prepare(`SELECT id FROM broadcasts WHERE path = ? AND status = 'draft' ORDER BY created_at LIMIT 1`)
    .bind(b.path)
    .first<{ id: string }>()
  const id = draft?.id ?? newId()
  const { sql, params } = segmentSql(b.segment, 4)
  const take = (dueAt: number, zone?: string) =>
    db
      .prepare(
        `INSERT INTO broadcast_recipients (broadcast_id, subscriber_id, due_at, status)
         SELECT ?1, s.id, ?2, 'waiting' FROM subscribers s WHERE ${zone === undefined ? '?3 IS NULL' : 's.timezone = ?3'} AND ${sql}
         ON CONFLICT DO NOTHING`,
      )
      .bind(id, dueAt, zone ?? null, ...params)
  const takes = 'dueAt' in due ? [take(due.dueAt)] : [...due.dueByZone].map(([zone, at]) => take(at, zone))
  await db.batch([
    db
      .prepare(
        `INSERT INTO broadcasts (id, path, status, send_mode, send_at, segment, created_at, scheduled_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, send_mode = excluded.send_mode,
           send_at = excluded.send_at, segment = excluded.segment, scheduled_at = excluded.scheduled_at,
           updated_at = excluded.updated_at`,
      )
      .bind(id, b.path, b.status, b.mode, b.sendAt, JSON.stringify(b.segment), now),
    ...takes,
    db
      .prepare(
        `UPDATE broadcasts SET recipients = (SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ?1),
           -- Nobody to send to: done at once.
           status = CASE WHEN (SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ?1) = 0 THEN 'sent' ELSE status END,
           finished_at = CASE WHEN (SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = ?1) = 0 THEN ?2 END
         WHERE id = ?1`,
      )
      .bind(id, now),
  ])
  return (await getBroadcast(db, id)) as Broadcast
}

/** Stops what has not gone out: the broadcast is cancelled and its waiting recipients skipped. */
export async function cancelBroadcast(db: D1Database, id: string, now: number): Promise<boolean> {
  const [changed] = await db.batch([
    db
      .prepare(
        `UPDATE broadcasts SET status = 'cancelled', finished_at = ?2, updated_at = ?2
         WHERE id = ?1 AND status IN ('draft', 'scheduled', 'sending', 'paused')`,
      )
      .bind(id, now),
    db
      .prepare(
        `UPDATE broadcast_recipients SET status = 'skipped', reason = 'cancelled', lease_until = NULL
         WHERE broadcast_id = ?1 AND status IN ('waiting', 'queued')
           AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ?1 AND status = 'cancelled')`,
      )
      .bind(id),
  ])
  return (changed?.meta.changes ?? 0) > 0
}

/** Pauses a sending or scheduled broadcast, saying why (the guard's reason, or the marketer's). */
export async function pauseBroadcast(db: D1Database, id: string, reason: string, now: number): Promise<boolean> {
  const r = await db
    .prepare(
      `UPDATE broadcasts SET status = 'paused', paused_reason = ?2, updated_at = ?3
       WHERE id = ?1 AND status IN ('scheduled', 'sending')`,
    )
    .bind(id, reason, now)
    .run()
  return r.meta.changes > 0
}

/** Resumes a paused broadcast; what the guard counted so far is acknowledged, only new trouble pauses again. */
export async function resumeBroadcast(db: D1Database, id: string, now: number): Promise<boolean> {
  const r = await db
    .prepare(
      `UPDATE broadcasts SET status = CASE WHEN NOT EXISTS (SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ?1 AND due_at <= ?2)
                              THEN 'scheduled' ELSE 'sending' END,
         paused_reason = NULL, guard_acknowledged_at = ?2, updated_at = ?2
       WHERE id = ?1 AND status = 'paused'`,
    )
    .bind(id, now)
    .run()
  return r.meta.changes > 0
}

/** Broadcasts the cron has work for: scheduled or sending. */
export async function activeBroadcasts(db: D1Database): Promise<Broadcast[]> {
  return (
    await db
      .prepare(`SELECT * FROM broadcasts WHERE status IN ('scheduled', 'sending') ORDER BY created_at`)
      .all<Broadcast>()
  ).results
}

/**
 * Claims up to `limit` recipients of a broadcast that are due (or whose lease ran out), leasing
 * them until `leaseUntil`: a later cron skips them meanwhile, so no recipient is queued twice.
 */
export async function claimDue(
  db: D1Database,
  broadcastId: string,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<Pick<Recipient, 'subscriber_id' | 'status'>[]> {
  const rows = await db
    .prepare(
      `UPDATE broadcast_recipients SET status = CASE WHEN status = 'sending' THEN 'sending' ELSE 'queued' END, lease_until = ?3
       WHERE broadcast_id = ?1 AND subscriber_id IN (SELECT subscriber_id FROM (
         -- Through the index of what is still open: sent rows are never walked again.
         SELECT subscriber_id FROM broadcast_recipients INDEXED BY broadcast_recipients_open
         WHERE broadcast_id = ?1 AND status IN ('waiting', 'queued', 'sending') AND status = 'waiting' AND due_at <= ?2
         UNION ALL
         SELECT subscriber_id FROM broadcast_recipients INDEXED BY broadcast_recipients_open
         WHERE broadcast_id = ?1 AND status IN ('waiting', 'queued', 'sending') AND status <> 'waiting' AND lease_until <= ?2)
         LIMIT ?4)
       RETURNING subscriber_id, status`,
    )
    .bind(broadcastId, now, leaseUntil, limit)
    .all<Pick<Recipient, 'subscriber_id' | 'status'>>()
  return rows.results
}

/** Moves recipients who must wait (a lesson goes that day) to a later time, releasing their lease. */
export async function postpone(db: D1Database, broadcastId: string, moves: { id: string; dueAt: number }[]) {
  if (moves.length === 0) return
  const move = db.prepare(
    `UPDATE broadcast_recipients SET status = 'waiting', due_at = ?3, lease_until = NULL, reason = 'lesson-day'
     WHERE broadcast_id = ?1 AND subscriber_id = ?2 AND status = 'queued'`,
  )
  await db.batch(moves.map((m) => move.bind(broadcastId, m.id, m.dueAt)))
}

/** What the one-email-a-day rule needs of each reader: their zone, their next lesson, their last emails. */
export interface DayCheck {
  id: string
  timezone: string
  status: string
  next_send_at: number | null
  last_lesson: number | null
  last_broadcast: number | null
}

export async function dayChecks(db: D1Database, broadcastId: string, ids: string[]): Promise<DayCheck[]> {
  const out: DayCheck[] = []
  for (const part of chunks(ids)) {
    const rows = await db
      .prepare(
        `SELECT s.id, s.timezone, s.status, s.next_send_at,
           -- When the cron sent it (its scheduledTime), as the schedule counts days.
           (SELECT max(b.dispatched_at) FROM deliveries d JOIN lesson_batches b USING (batch_key)
             WHERE d.subscriber_id = s.id AND d.status = 'sent') AS last_lesson,
           (SELECT max(r.sent_at) FROM broadcast_recipients r
             WHERE r.subscriber_id = s.id AND r.status = 'sent' AND r.broadcast_id <> ?1) AS last_broadcast
         FROM subscribers s WHERE s.id IN (${marks(part.length, 2)})`,
      )
      .bind(broadcastId, ...part)
      .all<DayCheck>()
    out.push(...rows.results)
  }
  return out
}

/** The recipient rows of some subscribers of one broadcast. */
export async function recipientsOf(db: D1Database, broadcastId: string, ids: string[]): Promise<Recipient[]> {
  const out: Recipient[] = []
  for (const part of chunks(ids)) {
    const rows = await db
      .prepare(
        `SELECT * FROM broadcast_recipients WHERE broadcast_id = ?1 AND subscriber_id IN (${marks(part.length, 2)})`,
      )
      .bind(broadcastId, ...part)
      .all<Recipient>()
    out.push(...rows.results)
  }
  return out
}

/** Every recipient of one recorded provider batch, in the order it was sent. */
export async function batchRecipients(db: D1Database, batchKey: string): Promise<Recipient[]> {
  return (
    await db
      .prepare('SELECT * FROM broadcast_recipients WHERE batch_key = ? ORDER BY subscriber_id')
      .bind(batchKey)
      .all<Recipient>()
  ).results
}

/**
 * Records the intent to send: the queued recipients among `ids` become one provider batch under
 * `batchKey`. Returns those it took (another attempt may have taken some), in send order.
 */
export async function recordIntent(db: D1Database, broadcastId: string, ids: string[], batchKey: string) {
  const statements = chunks(ids).map((part) =>
    db
      .prepare(
        `UPDATE broadcast_recipients SET status = 'sending', batch_key = ?2
         WHERE broadcast_id = ?1 AND status = 'queued' AND subscriber_id IN (${marks(part.length, 3)})`,
      )
      .bind(broadcastId, batchKey, ...part),
  )
  if (statements.length > 0) await db.batch(statements)
  return batchRecipients(db, batchKey)
}

/** Recipients who will not get it, and why (left the newsletter, bounced, cancelled…). */
export async function skip(db: D1Database, broadcastId: string, skips: { id: string; reason: string }[]) {
  if (skips.length === 0) return
  const s = db.prepare(
    `UPDATE broadcast_recipients SET status = 'skipped', reason = ?3, lease_until = NULL
     WHERE broadcast_id = ?1 AND subscriber_id = ?2 AND status IN ('waiting', 'queued', 'sending')`,
  )
  await db.batch(skips.map((x) => s.bind(broadcastId, x.id, x.reason)))
}

/** Queued recipients go back to waiting (their broadcast paused while they were on the queue). */
export async function release(db: D1Database, broadcastId: string, ids: string[]) {
  const statements = chunks(ids).map((part) =>
    db
      .prepare(
        `UPDATE broadcast_recipients SET status = 'waiting', lease_until = NULL
         WHERE broadcast_id = ?1 AND status = 'queued' AND subscriber_id IN (${marks(part.length, 2)})`,
      )
      .bind(broadcastId, ...part),
  )
  if (statements.length > 0) await db.batch(statements)
}

/** The provider accepted a batch: its recipients are sent, each with the provider's id. */
export async function markSent(
  db: D1Database,
  batchKey: string,
  sent: { id: string; messageId: string | null }[],
  now: number,
) {
  const s = db.prepare(
    `UPDATE broadcast_recipients SET status = 'sent', message_id = ?3, sent_at = ?4, lease_until = NULL, reason = NULL
     WHERE batch_key = ?1 AND subscriber_id = ?2 AND status = 'sending'`,
  )
  if (sent.length > 0) await db.batch(sent.map((x) => s.bind(batchKey, x.id, x.messageId, now)))
}

/**
 * The provider turned a batch away unread (429: nothing was sent): its recipients go back to the
 * queue's care without the batch's key, so a cancel or a pause in the meantime reaches them and a
 * retry records a new batch.
 */
export async function requeue(db: D1Database, batchKey: string) {
  await db
    .prepare(
      `UPDATE broadcast_recipients SET status = 'queued', batch_key = NULL
       WHERE batch_key = ?1 AND status = 'sending'`,
    )
    .bind(batchKey)
    .run()
}

/** The provider refused a batch for good: its recipients failed, with the provider's reason. */
export async function markFailed(db: D1Database, batchKey: string, reason: string) {
  await db
    .prepare(
      `UPDATE broadcast_recipients SET status = 'failed', reason = ?2, lease_until = NULL
       WHERE batch_key = ?1 AND status = 'sending'`,
    )
    .bind(batchKey, reason.slice(0, 200))
    .run()
}

/** A broadcast with nobody left to send to is sent; a scheduled one whose first recipient went is sending. */
export async function settle(db: D1Database, id: string, now: number) {
  await db
    .prepare(
      `UPDATE broadcasts SET
         status = CASE WHEN NOT EXISTS (SELECT 1 FROM broadcast_recipients
                                        WHERE broadcast_id = ?1 AND status IN ('waiting', 'queued', 'sending'))
                       THEN 'sent' ELSE 'sending' END,
         finished_at = CASE WHEN NOT EXISTS (SELECT 1 FROM broadcast_recipients
                                             WHERE broadcast_id = ?1 AND status IN ('waiting', 'queued', 'sending'))
                            THEN ?2 END,
         updated_at = ?2
       WHERE id = ?1 AND status IN ('scheduled', 'sending')
         AND (status = 'sending' OR EXISTS (SELECT 1 FROM broadcast_recipients
                                            WHERE broadcast_id = ?1 AND status <> 'waiting'))`,
    )
    .bind(id, now)
    .run()
}

// ---- The deliverability guard --------------------------------------------------------------------

/**
 * Complaints and deliveries over a window ending now, counting only complaints received after
 * `since`. Deliveries are counted per day sent (day_counts): the window starts at its first whole day.
 */
export async function complaintFigures(db: D1Database, from: number, since: number) {
  const row = await db
    .prepare(
      `SELECT
         (SELECT coalesce(sum(delivered), 0) FROM day_counts WHERE day >= ?1 / 86400000) AS delivered,
         (SELECT count(*) FROM trouble WHERE type = 'complained' AND at >= ?1) AS complaints,
         (SELECT count(*) FROM trouble WHERE type = 'complained' AND at >= ?1 AND received_at > ?2) AS fresh`,
    )
    .bind(from, since)
    .first<{ delivered: number; complaints: number; fresh: number }>()
  return row ?? { delivered: 0, complaints: 0, fresh: 0 }
}

/** Hard bounces among a broadcast's first 1,000 sent, and how many those are. */
export async function bounceFigures(db: D1Database, id: string, since: number) {
  const row = await db
    .prepare(
      `WITH first AS (SELECT subscriber_id FROM broadcast_recipients
                      WHERE broadcast_id = ?1 AND status = 'sent' ORDER BY sent_at, subscriber_id LIMIT 1000)
       SELECT (SELECT count(*) FROM first) AS sent,
              count(t.at) AS bounces,
              count(CASE WHEN t.received_at > ?2 THEN 1 END) AS fresh
       FROM first JOIN subscribers s ON s.id = first.subscriber_id
       JOIN trouble t ON t.subscriber = s.num AND t.type = 'bounced' AND t.hard = 1
         AND t.email = (SELECT num FROM emails WHERE key = 'broadcast:' || ?1)`,
    )
    .bind(id, since)
    .first<{ sent: number; bounces: number; fresh: number }>()
  return row ?? { sent: 0, bounces: 0, fresh: 0 }
}
