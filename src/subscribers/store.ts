/**
 * D1 reads of subscribers, and their history lines that change no state. Every change of state
 * lives in ./lifecycle.ts.
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
  /** The newsletter topic: see migrations/0007_newsletter_topic.sql. */
  newsletter: NewsletterStatus
  newsletter_consent_at: number | null
  newsletter_consent_ip: string | null
  newsletter_consent_user_agent: string | null
  newsletter_consent_text: string | null
  newsletter_joined_at: number | null
  newsletter_left_at: number | null
  /** When the sunset policy asked whether they still want our emails (see ./sunset.ts). */
  sunset_asked_at?: number | null
}

/** Where a subscriber is with the newsletter. */
export type NewsletterStatus = 'none' | 'pending' | 'active' | 'left'

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
  /** The newsletter's consent wording, when the signup asked for it too (its IP and agent are the signup's). */
  newsletterConsent?: string
}

/** The address as compared for uniqueness. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase()

/** One subscriber by id. */
export async function getSubscriber(db: D1Database, id: string): Promise<Subscriber | undefined> {
  return (await db.prepare('SELECT * FROM subscribers WHERE id = ?').bind(id).first<Subscriber>()) ?? undefined
}

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
