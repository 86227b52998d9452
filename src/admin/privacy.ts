/** GDPR: everything held about one address, and its erasure. */

import { presentReceipts, receiptsOf } from '../mail/receipts'
import { ring } from '../mail/relay'
import { erase, type LifecycleDeps } from '../subscribers/lifecycle'
import { normalizeEmail } from '../subscribers/store'
import { suppressionHash } from '../subscribers/suppression'
import { presentRow, presentRows } from './store'

/**
 * Every row about the address: subscriptions (every column), their history, lessons and broadcasts
 * sent, each email received with what became of it (receipts), first-party clicks, local emails; times in ISO 8601 and JSON columns parsed (presentRow). Its shape
 * is documented, in the OpenAPI document too, by `personExportAnswer` (schemas.ts).
 */
export async function exportPerson(db: D1Database, email: string) {
  const address = normalizeEmail(email)
  const ids = `(SELECT id FROM subscribers WHERE email_normalized = ?1)`
  const [subscriptions, history, deliveries, receipts, emails, broadcasts, clicks] = await db.batch<
    Record<string, unknown>
  >([
    db.prepare('SELECT * FROM subscribers WHERE email_normalized = ?1').bind(address),
    db
      .prepare(`SELECT subscriber_id, type, at, data FROM subscriber_events WHERE subscriber_id IN ${ids} ORDER BY id`)
      .bind(address),
    db
      .prepare(
        `SELECT subscriber_id, round, lesson, course, status, message_id, created_at, sent_at FROM deliveries WHERE subscriber_id IN ${ids}`,
      )
      .bind(address),
    db.prepare(receiptsOf(ids)).bind(address),
    db.prepare('SELECT id, created_at, subject FROM outbox WHERE lower(to_address) = ?1').bind(address),
    db
      .prepare(
        `SELECT r.subscriber_id, r.broadcast_id, b.path, r.status, r.reason, r.message_id, r.sent_at
         FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id WHERE r.subscriber_id IN ${ids}`,
      )
      .bind(address),
    db
      .prepare(
        `SELECT s.id AS subscriber_id, m.key AS email, k.link, k.at FROM link_clicks k
         JOIN subscribers s ON s.num = k.subscriber JOIN emails m ON m.num = k.email
         WHERE s.id IN ${ids} ORDER BY k.at`,
      )
      .bind(address),
  ])
  return {
    email: address,
    subscriptions: presentRows(subscriptions),
    history: presentRows(history),
    deliveries: presentRows(deliveries),
    newsletter: presentRows(broadcasts),
    clicks: presentRows(clicks),
    received: presentReceipts(receipts?.results ?? []).map(presentRow),
    emails: presentRows(emails),
  }
}

/**
 * Erases the address from every table, in one transaction (see the lifecycle's `erase`), keeping
 * only its hash in `suppressions` so it is never mailed or stored again, and tells the marketer's
 * endpoint. Returns how many subscriptions were erased.
 */
export async function erasePerson(deps: LifecycleDeps, mail: Queue, email: string, now: number): Promise<number> {
  const result = await erase(deps, email, await suppressionHash(email), now)
  await ring(deps.db, mail, result.outbox)
  return result.erased
}
