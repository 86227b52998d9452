/** GDPR: everything held about one address, and its erasure. */
import { sha256Hex } from '../site/publish'
import { normalizeEmail } from '../subscribers/store'

/** The form in which an erased address is remembered: never mailed again, never readable. */
export const suppressionHash = (email: string) => sha256Hex(normalizeEmail(email))

/** Every row about the address: subscriptions, their history, deliveries, provider events, emails. */
export async function exportPerson(db: D1Database, email: string) {
  const address = normalizeEmail(email)
  const ids = `(SELECT id FROM subscribers WHERE email_normalized = ?1)`
  const [subscriptions, history, deliveries, events, emails] = await db.batch([
    db.prepare('SELECT * FROM subscribers WHERE email_normalized = ?1').bind(address),
    db
      .prepare(`SELECT subscriber_id, type, at, data FROM subscriber_events WHERE subscriber_id IN ${ids} ORDER BY id`)
      .bind(address),
    db
      .prepare(
        `SELECT subscriber_id, round, lesson, course, status, message_id, created_at, sent_at FROM deliveries WHERE subscriber_id IN ${ids}`,
      )
      .bind(address),
    db
      .prepare(
        `SELECT type, email_id, occurred_at, data FROM email_events WHERE to_address = ?1 OR subscriber_id IN ${ids}`,
      )
      .bind(address),
    db.prepare('SELECT id, created_at, subject FROM outbox WHERE lower(to_address) = ?1').bind(address),
  ])
  return {
    email: address,
    subscriptions: subscriptions?.results ?? [],
    history: history?.results ?? [],
    deliveries: deliveries?.results ?? [],
    provider_events: events?.results ?? [],
    emails: emails?.results ?? [],
  }
}

/**
 * Erases the address from every table, in one transaction, and keeps only its hash in
 * `suppressions` so it is never mailed again. Returns how many subscriptions were erased.
 */
export async function erasePerson(db: D1Database, email: string, now: number): Promise<number> {
  const address = normalizeEmail(email)
  const ids = `(SELECT id FROM subscribers WHERE email_normalized = ?1)`
  const results = await db.batch([
    db.prepare(`DELETE FROM email_events WHERE to_address = ?1 OR subscriber_id IN ${ids}`).bind(address),
    db.prepare(`DELETE FROM subscriber_events WHERE subscriber_id IN ${ids}`).bind(address),
    db.prepare(`DELETE FROM deliveries WHERE subscriber_id IN ${ids}`).bind(address),
    // Failed jobs kept for the marketer: an outbound webhook's copy of the person (address, name,
    // attribution), and a mail job that names only them. A lessons batch names subscribers by id
    // alone, which points nowhere once the row below is gone, and stays for the others in it.
    db
      .prepare(
        `DELETE FROM dead_letters WHERE instr(lower(body), ?1) > 0
           OR (queue = 'spine-exercises-mail-dlq' AND EXISTS (SELECT 1 FROM subscribers s
                 WHERE s.email_normalized = ?1 AND instr(dead_letters.body, s.id) > 0))`,
      )
      .bind(address),
    db.prepare('DELETE FROM outbox WHERE lower(to_address) = ?1').bind(address),
    db.prepare('DELETE FROM subscribers WHERE email_normalized = ?1').bind(address),
    db
      .prepare(
        "INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'erased', ?) ON CONFLICT DO NOTHING",
      )
      .bind(await suppressionHash(address), now),
  ])
  return results[5]?.meta.changes ?? 0
}
