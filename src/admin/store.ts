/** D1 queries of the admin API: filtered, keyset-paginated lists and one subscriber's history. */
import { presentReceipts, receiptsOf } from '../mail/receipts'
import { iso } from '../subscribers/present'
import type { Subscriber, SubscriberStatus } from '../subscribers/store'

/** The columns kept in epoch ms: `at`, every `…_at` and `…_until`. */
const TIME_COLUMN = /^(at|\w+_at|\w+_until)$/
/** The columns that hold JSON text. */
const JSON_COLUMNS = new Set(['data', 'tags'])

/** JSON text as the value it holds; text that is not JSON stays as it is (nothing held is dropped). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * A row as the admin API shows it: its times in ISO 8601 (UTC) rather than epoch ms, its JSON
 * columns (`data`, `tags`) as the objects they hold rather than JSON inside a string.
 */
export function presentRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row))
    out[key] =
      typeof value === 'number' && TIME_COLUMN.test(key)
        ? iso(value)
        : typeof value === 'string' && JSON_COLUMNS.has(key)
          ? parsed(value)
          : value
  return out
}

/** The rows of one statement's result, each as the admin API shows it (presentRow). */
export const presentRows = (result: D1Result<Record<string, unknown>> | undefined) =>
  (result?.results ?? []).map(presentRow)

/** What the list can be narrowed by. */
export interface SubscriberFilter {
  status?: SubscriberStatus
  source?: string
  utm_campaign?: string
  /** Epoch ms, inclusive. */
  createdFrom?: number
  /** Epoch ms, exclusive. */
  createdTo?: number
  /** At least this many lessons received. */
  lessonReached?: number
  /** The address contains this (the dashboard's search box). */
  emailContains?: string
}

/** Where the previous page ended: newest first, so (created_at, id) strictly below it. */
export interface Cursor {
  createdAt: number
  id: string
}

/** One page of subscribers, newest first, and the cursor of the next page when there is one. */
export async function listSubscribers(db: D1Database, f: SubscriberFilter, limit: number, after?: Cursor) {
  const { results } = await db
    .prepare(
      `SELECT * FROM subscribers
       WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR source = ?2) AND (?3 IS NULL OR utm_campaign = ?3)
         AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)
         AND (?6 IS NULL OR lesson_position >= ?6)
         AND (?7 IS NULL OR (created_at, id) < (?7, ?8))
         AND (?10 IS NULL OR instr(email_normalized, lower(?10)) > 0)
       ORDER BY created_at DESC, id DESC LIMIT ?9`,
    )
    .bind(
      f.status ?? null,
      f.source ?? null,
      f.utm_campaign ?? null,
      f.createdFrom ?? null,
      f.createdTo ?? null,
      f.lessonReached ?? null,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit + 1,
      f.emailContains ?? null,
    )
    .all<Subscriber>()
  const page = results.slice(0, limit)
  const last = page.at(-1)
  const next = results.length > limit && last ? { createdAt: last.created_at, id: last.id } : undefined
  return { subscribers: page, next }
}

/**
 * A subscriber's deliveries in flight or lately sent, history, and each email received with what
 * became of it (its receipt), oldest first, as the admin API shows them.
 */
export async function subscriberHistory(db: D1Database, id: string) {
  const [deliveries, events, received] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        'SELECT round, lesson, status, message_id, created_at, sent_at FROM deliveries WHERE subscriber_id = ? ORDER BY round, lesson',
      )
      .bind(id),
    db.prepare('SELECT type, at, data FROM subscriber_events WHERE subscriber_id = ? ORDER BY id').bind(id),
    db.prepare(receiptsOf('(?)')).bind(id),
  ])
  return {
    deliveries: presentRows(deliveries),
    events: presentRows(events),
    received: presentReceipts(received?.results ?? []).map(presentRow),
  }
}

/** The sources subscribers came from, most frequent first (the dashboard's select). */
export async function knownSources(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT source FROM subscribers WHERE source IS NOT NULL GROUP BY source ORDER BY count(*) DESC LIMIT 100')
    .all<{ source: string }>()
  return results.map((r) => r.source)
}

/** One dead letter, as the dashboard lists it. */
export interface DeadLetter {
  id: number
  queue: string
  body: string
  attempts: number
  received_at: number
}

/** The newest 200 dead letters. */
export async function listDeadLetters(db: D1Database): Promise<DeadLetter[]> {
  return (await db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT 200').all<DeadLetter>()).results
}
