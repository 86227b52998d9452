/**
 * D1 storage of subscribers. Each change of state is one statement whose WHERE clause states the
 * rule (listmonk's way), so concurrent requests cannot break it.
 */

/** Where a subscriber is in their life: see ARCHITECTURE.md. */
export type SubscriberStatus = 'pending' | 'active' | 'paused' | 'completed' | 'unsubscribed' | 'bounced' | 'complained'

/** A subscriber row. */
export interface Subscriber {
  id: string
  email: string
  first_name: string | null
  course: string
  status: SubscriberStatus
  timezone: string
  lesson_position: number
  /** Which time through the course (1, then one more per restart or return after unsubscribing). */
  course_round: number
  next_send_at: number | null
  source: string | null
  referrer: string | null
  landing_path: string | null
  utm_source: string | null
  utm_medium: string | null
  utm_campaign: string | null
  utm_term: string | null
  utm_content: string | null
  tags: string
  consent_at: number
  consent_ip: string | null
  consent_user_agent: string | null
  consent_text: string
  created_at: number
  confirmation_sent_at: number | null
  confirmed_at: number | null
  unsubscribed_at: number | null
  updated_at: number
}

/** Everything a signup records: who, for which course, from where, and the consent they gave. */
export interface SignupRecord {
  email: string
  firstName?: string
  course: string
  timezone: string
  source?: string
  referrer?: string
  landingPath?: string
  utm: { source?: string; medium?: string; campaign?: string; term?: string; content?: string }
  consent: { text: string; ip?: string; userAgent?: string }
}

/** The address as compared for uniqueness. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase()

const UPSERT_SIGNUP = `
INSERT INTO subscribers (
  id, email, email_normalized, first_name, course, status, timezone,
  source, referrer, landing_path, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
  consent_at, consent_ip, consent_user_agent, consent_text, created_at, confirmation_sent_at, updated_at)
SELECT ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?15, ?15, ?15
-- An erased address (kept only as a hash) is never stored again: checked in the same statement.
WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ?20)
ON CONFLICT (email_normalized, course) DO UPDATE SET
  status = 'pending',
  email = excluded.email,
  first_name = coalesce(excluded.first_name, subscribers.first_name),
  timezone = excluded.timezone,
  source = excluded.source, referrer = excluded.referrer, landing_path = excluded.landing_path,
  utm_source = excluded.utm_source, utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign,
  utm_term = excluded.utm_term, utm_content = excluded.utm_content,
  consent_at = excluded.consent_at, consent_ip = excluded.consent_ip,
  consent_user_agent = excluded.consent_user_agent, consent_text = excluded.consent_text,
  lesson_position = 0, next_send_at = NULL, confirmed_at = NULL, unsubscribed_at = NULL,
  -- Coming back after unsubscribing is a new round of the course: its lessons are owed again.
  course_round = subscribers.course_round + (subscribers.status = 'unsubscribed'),
  confirmation_sent_at = excluded.confirmation_sent_at, updated_at = excluded.updated_at
WHERE subscribers.status = 'unsubscribed'
   OR (subscribers.status = 'pending'
       AND (subscribers.confirmation_sent_at IS NULL OR subscribers.confirmation_sent_at <= ?19))
RETURNING *`

/** The history line of a claimed signup, in the same round trip: only a row claimed at ?3 has one. */
const SIGNUP_EVENT = `
INSERT INTO subscriber_events (subscriber_id, type, at, data)
SELECT id, CASE WHEN id = ?1 THEN 'signed_up' ELSE 'signed_up_again' END, ?3, json_object('source', ?4, 'consent_text', ?5)
FROM subscribers
WHERE email_normalized = ?2 AND course = ?6 AND confirmation_sent_at = ?3 AND updated_at = ?3
  -- Only when the upsert just before it claimed the row: two signups in one millisecond make one line.
  AND changes() > 0`

/**
 * Records a signup and claims the right to send one confirmation email. A new address is inserted
 * as pending; a pending one whose last confirmation is older than `resendBefore`, or an
 * unsubscribed one, starts over as pending with this signup's consent. Anything else is left as it
 * is and nothing is returned, so the caller sends nothing. One statement: concurrent signups of one
 * address make one row and one claim.
 */
export async function claimSignup(
  db: D1Database,
  s: SignupRecord,
  now: number,
  resendBefore: number,
  /** SHA-256 of the normalized address, as `suppressions` keeps erased ones. */
  suppressionHash: string,
): Promise<{ subscriber: Subscriber; isNew: boolean } | undefined> {
  const id = crypto.randomUUID()
  const upsert = db
    .prepare(UPSERT_SIGNUP)
    .bind(
      id,
      s.email.trim(),
      normalizeEmail(s.email),
      s.firstName ?? null,
      s.course,
      s.timezone,
      s.source ?? null,
      s.referrer ?? null,
      s.landingPath ?? null,
      s.utm.source ?? null,
      s.utm.medium ?? null,
      s.utm.campaign ?? null,
      s.utm.term ?? null,
      s.utm.content ?? null,
      now,
      s.consent.ip ?? null,
      s.consent.userAgent ?? null,
      s.consent.text,
      resendBefore,
      suppressionHash,
    )
  const event = db
    .prepare(SIGNUP_EVENT)
    .bind(id, normalizeEmail(s.email), now, s.source ?? null, s.consent.text, s.course)
  // One round trip, one transaction: the signup and its history line stand or fall together.
  const [claimed] = await db.batch<Subscriber>([upsert, event])
  const row = claimed?.results[0]
  return row ? { subscriber: row, isNew: row.id === id } : undefined
}

/** Gives back a confirmation claim whose email could not be sent, so the next signup may retry. */
export async function releaseConfirmationClaim(db: D1Database, id: string, claimedAt: number): Promise<void> {
  await db
    .prepare(
      `UPDATE subscribers SET confirmation_sent_at = NULL WHERE id = ? AND status = 'pending' AND confirmation_sent_at = ?`,
    )
    .bind(id, claimedAt)
    .run()
}

/** One subscriber by id. */
export async function getSubscriber(db: D1Database, id: string): Promise<Subscriber | undefined> {
  return (await db.prepare('SELECT * FROM subscribers WHERE id = ?').bind(id).first<Subscriber>()) ?? undefined
}

const change = async (db: D1Database, sql: string, ...params: unknown[]): Promise<Subscriber | undefined> =>
  (await db
    .prepare(sql)
    .bind(...params)
    .first<Subscriber>()) ?? undefined

/** pending -> active, with lesson 1 due now. */
export const confirmSubscriber = (db: D1Database, id: string, now: number) =>
  change(
    db,
    `UPDATE subscribers SET status = 'active', confirmed_at = ?2, lesson_position = 0, next_send_at = ?2, updated_at = ?2
     WHERE id = ?1 AND status = 'pending' RETURNING *`,
    id,
    now,
  )

/** Any state that still receives mail -> unsubscribed, at once. */
export const unsubscribeSubscriber = (db: D1Database, id: string, now: number) =>
  change(
    db,
    `UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?2, next_send_at = NULL, updated_at = ?2
     WHERE id = ?1 AND status IN ('pending', 'active', 'paused', 'completed') RETURNING *`,
    id,
    now,
  )

/** active -> paused: no lesson until resumed. */
export const pauseSubscriber = (db: D1Database, id: string, now: number) =>
  change(
    db,
    `UPDATE subscribers SET status = 'paused', updated_at = ?2 WHERE id = ?1 AND status = 'active' RETURNING *`,
    id,
    now,
  )

/** paused -> active: the next lesson is due when it was due, or now if that has passed. */
export const resumeSubscriber = (db: D1Database, id: string, now: number) =>
  change(
    db,
    `UPDATE subscribers SET status = 'active', next_send_at = max(coalesce(next_send_at, ?2), ?2), updated_at = ?2
     WHERE id = ?1 AND status = 'paused' RETURNING *`,
    id,
    now,
  )

/** Back to lesson 1, due now, in a new round, for anyone who confirmed and still wants mail. */
export const restartCourse = (db: D1Database, id: string, now: number) =>
  change(
    db,
    `UPDATE subscribers SET status = 'active', lesson_position = 0, course_round = course_round + 1, next_send_at = ?2,
       lease_until = NULL, updated_at = ?2
     WHERE id = ?1 AND status IN ('active', 'paused', 'completed') RETURNING *`,
    id,
    now,
  )

/** New first name and time zone, and the next lesson's time in that zone (unchanged when null). */
export const updateProfile = (
  db: D1Database,
  id: string,
  now: number,
  firstName: string | null,
  timezone: string,
  nextSendAt: number | null,
) =>
  change(
    db,
    `UPDATE subscribers SET first_name = ?3, timezone = ?4, next_send_at = coalesce(?5, next_send_at), updated_at = ?2
     WHERE id = ?1 RETURNING *`,
    id,
    now,
    firstName,
    timezone,
    nextSendAt,
  )

/** Several subscribers by id, in one query. */
export async function getSubscribers(db: D1Database, ids: string[]): Promise<Map<string, Subscriber>> {
  const { results } = await db
    .prepare('SELECT * FROM subscribers WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(ids))
    .all<Subscriber>()
  return new Map(results.map((s) => [s.id, s]))
}

/** One line of a subscriber's history. */
export interface SubscriberEvent {
  subscriberId: string
  type: string
  at: number
  data?: Record<string, unknown>
}

/** Appends several history lines in one round trip. */
export async function recordEvents(db: D1Database, events: SubscriberEvent[]): Promise<void> {
  if (events.length === 0) return
  const insert = db.prepare('INSERT INTO subscriber_events (subscriber_id, type, at, data) VALUES (?, ?, ?, ?)')
  await db.batch(events.map((e) => insert.bind(e.subscriberId, e.type, e.at, JSON.stringify(e.data ?? {}))))
}

/** Appends to a subscriber's history. */
export async function recordEvent(
  db: D1Database,
  subscriberId: string,
  type: string,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  await db
    .prepare('INSERT INTO subscriber_events (subscriber_id, type, at, data) VALUES (?, ?, ?, ?)')
    .bind(subscriberId, type, at, JSON.stringify(data))
    .run()
}
