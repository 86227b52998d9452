/**
 * What came of the signups: per day and source, the funnel, and each lesson's fate. Figures about
 * emails come from counters (migration 0012), never from the raw rows a retention period removes.
 */

/** Signups created in [from, to), epoch ms. */
export interface StatsRange {
  from: number
  to: number
}

const DAY = 86_400_000

const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000)

/** The marketers' figures for signups in a range, from D1 in one round trip. */
export async function courseStats(db: D1Database, r: StatsRange) {
  const inRange = 'created_at >= ?1 AND created_at < ?2'
  const [perDay, funnel, lessons, unsubscribes] = await db.batch([
    db
      .prepare(
        `SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, coalesce(source, '') AS source,
                coalesce(utm_campaign, '') AS utm_campaign, count(*) AS signups
         FROM subscribers WHERE ${inRange} GROUP BY day, source, utm_campaign ORDER BY day, source, utm_campaign`,
      )
      .bind(r.from, r.to),
    db
      .prepare(
        `SELECT count(*) AS signed_up, count(confirmed_at) AS confirmed,
                coalesce(sum(status = 'completed'), 0) AS completed, coalesce(sum(status = 'unsubscribed'), 0) AS unsubscribed
         FROM subscribers WHERE ${inRange}`,
      )
      .bind(r.from, r.to),
    // Each lesson's figures from the counters (migration 0012), for subscribers who signed up in the range.
    db
      .prepare(
        `SELECT CAST(replace(m.key, rtrim(m.key, '0123456789'), '') AS INTEGER) AS lesson, sum(c.sent) AS sent,
           sum(c.delivered) AS delivered, sum(c.opened) AS opened, sum(c.clicked) AS clicked,
           sum(c.bounced) AS bounced, sum(c.complained) AS complained
         FROM emails m JOIN email_counts c ON c.email = m.num
         WHERE m.key LIKE 'lesson:%' AND c.cohort >= ?1 AND c.cohort < ?2 GROUP BY 1 ORDER BY 1`,
      )
      .bind(Math.floor(r.from / DAY), Math.ceil(Math.min(r.to, 8.64e15) / DAY)),
    db
      .prepare(
        `SELECT lesson_position AS after_lesson, count(*) AS unsubscribed FROM subscribers
         WHERE status = 'unsubscribed' AND ${inRange} GROUP BY lesson_position ORDER BY lesson_position`,
      )
      .bind(r.from, r.to),
  ])
  const f = (funnel?.results[0] ?? { signed_up: 0, confirmed: 0, completed: 0, unsubscribed: 0 }) as Record<
    string,
    number
  >
  return {
    signups_per_day: perDay?.results ?? [],
    funnel: {
      signed_up: f.signed_up ?? 0,
      confirmed: f.confirmed ?? 0,
      completed: f.completed ?? 0,
      unsubscribed: f.unsubscribed ?? 0,
    },
    confirm_rate: ratio(f.confirmed ?? 0, f.signed_up ?? 0),
    completion_rate: ratio(f.completed ?? 0, f.confirmed ?? 0),
    lessons: lessons?.results ?? [],
    unsubscribes_by_lesson: unsubscribes?.results ?? [],
  }
}

/** How many confirmed subscribers have received at least n lessons, for n = 1 … lessons. */
export async function lessonReach(db: D1Database, lessons: number): Promise<number[]> {
  const { results } = await db
    .prepare(
      'SELECT lesson_position AS n, count(*) AS c FROM subscribers WHERE confirmed_at IS NOT NULL GROUP BY lesson_position',
    )
    .all<{ n: number; c: number }>()
  return Array.from({ length: lessons }, (_, i) => results.filter((r) => r.n >= i + 1).reduce((sum, r) => sum + r.c, 0))
}

/** Signups per day over the last `days` days up to `now`, every day present (0 when none). */
export async function signupsPerDay(db: D1Database, now: number, days: number) {
  const start = Math.floor(now / 86_400_000) * 86_400_000 - (days - 1) * 86_400_000
  const { results } = await db
    .prepare(
      `SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, count(*) AS signups
       FROM subscribers WHERE created_at >= ? GROUP BY day`,
    )
    .bind(start)
    .all<{ day: string; signups: number }>()
  const byDay = new Map(results.map((r) => [r.day, r.signups]))
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10)
    return { day, signups: byDay.get(day) ?? 0 }
  })
}

/** Signups, confirmations and clickers by source and UTM campaign (all time), the largest first. */
export async function sourceTable(db: D1Database) {
  const { results } = await db
    .prepare(
      `SELECT coalesce(source, '') AS source, coalesce(utm_campaign, '') AS campaign, count(*) AS signups,
              count(confirmed_at) AS confirmed, count(last_click_at) AS clicked
       FROM subscribers GROUP BY 1, 2 ORDER BY signups DESC, source, campaign LIMIT 50`,
    )
    .all<{ source: string; campaign: string; signups: number; confirmed: number; clicked: number }>()
  return results.map((r) => ({ ...r, confirm_rate: ratio(r.confirmed, r.signups) }))
}

/** Each broadcast sent (or sending): what the provider reported of its emails, and who left after it. */
export async function broadcastTable(db: D1Database) {
  const { results } = await db
    .prepare(
      `WITH recent AS (SELECT id, path, status, recipients, sent, created_at FROM broadcasts
                       WHERE status IN ('sending', 'paused', 'sent') ORDER BY created_at DESC LIMIT 50),
       counted AS (SELECT b.id, sum(c.delivered) AS delivered, sum(c.bounced) AS bounced,
                     sum(c.complained) AS complained, sum(c.readers) AS clicked, sum(c.unsubscribed) AS unsubscribed
                   FROM recent b JOIN emails m ON m.key = 'broadcast:' || b.id JOIN email_counts c ON c.email = m.num
                   GROUP BY b.id)
       SELECT b.id, b.path, b.status, b.recipients, b.sent,
         coalesce(c.delivered, 0) AS delivered, coalesce(c.bounced, 0) AS bounced, coalesce(c.complained, 0) AS complained,
         -- Clicked: readers who followed one of its links (first-party, through /r/).
         coalesce(c.clicked, 0) AS clicked,
         -- Left the newsletter while it was the last broadcast they had been sent.
         coalesce(c.unsubscribed, 0) AS unsubscribed
       FROM recent b LEFT JOIN counted c ON c.id = b.id ORDER BY b.created_at DESC`,
    )
    .all<{
      id: string
      path: string
      status: string
      recipients: number
      sent: number
      delivered: number
      clicked: number
      bounced: number
      complained: number
      unsubscribed: number
    }>()
  return results
}

/** First-party clicks: readers who clicked, by email ('lesson:<course>:<n>', 'broadcast:<id>'). */
export async function clicksByEmail(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db
    .prepare(
      `SELECT m.key AS email, sum(c.readers) AS readers FROM emails m JOIN email_counts c ON c.email = m.num
       GROUP BY m.key HAVING sum(c.readers) > 0`,
    )
    .all<{ email: string; readers: number }>()
  return new Map(results.map((r) => [r.email, r.readers]))
}

/** The links clicked most, with their email: clicks, and how many readers clicked. */
export async function linkTable(db: D1Database) {
  const { results } = await db
    .prepare(
      `SELECT m.key AS email, l.link, l.clicks, l.readers FROM link_counts l JOIN emails m ON m.num = l.email
       ORDER BY l.clicks DESC, email, l.link LIMIT 50`,
    )
    .all<{ email: string; link: string; clicks: number; readers: number }>()
  return results
}
