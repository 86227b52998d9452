/** D1 for first-party clicks on the tracked links of an email (migration 0012's tables). */
import { EVENT_BITS } from '../mail/receipts'

/**
 * Records a click of a subscriber on one link of one email ('lesson:<course>:<n>', 'broadcast:<id>'),
 * in one transaction: the link's click count, the reader's first click of it (the triggers count a
 * new reader of the link and of the email), the receipt's bit, and when the reader last clicked.
 * Nothing is recorded when the subscriber is gone.
 */
export async function recordClick(db: D1Database, subscriberId: string, email: string, link: string, at: number) {
  const whose = 'FROM subscribers s, emails m WHERE s.id = ?1 AND m.key = ?2'
  await db.batch([
    db.prepare('INSERT OR IGNORE INTO emails (key) SELECT ?2 FROM subscribers WHERE id = ?1').bind(subscriberId, email),
    db
      .prepare(
        `INSERT INTO link_counts (email, link, clicks) SELECT m.num, ?3, 1 ${whose}
         ON CONFLICT DO UPDATE SET clicks = clicks + 1`,
      )
      .bind(subscriberId, email, link),
    db
      .prepare(
        `INSERT INTO link_clicks (subscriber, email, link, at) SELECT s.num, m.num, ?3, ?4 ${whose} ON CONFLICT DO NOTHING`,
      )
      .bind(subscriberId, email, link, at),
    db
      .prepare(
        `INSERT INTO receipts (subscriber, email, sent_at, events) SELECT s.num, m.num, ?3, ?4 ${whose}
         ON CONFLICT DO UPDATE SET events = events | excluded.events WHERE events & excluded.events = 0`,
      )
      .bind(subscriberId, email, at, EVENT_BITS.link),
    db.prepare('UPDATE subscribers SET last_click_at = ?2 WHERE id = ?1').bind(subscriberId, at),
  ])
}
