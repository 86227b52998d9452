/** D1 for first-party clicks: one row per click on a tracked link of an email. */

/** Records a click of a subscriber on one link of one email (nothing when the subscriber is gone). */
export async function recordClick(db: D1Database, subscriberId: string, email: string, link: string, at: number) {
  await db
    .prepare('INSERT INTO clicks (subscriber_id, email, link, at) SELECT id, ?2, ?3, ?4 FROM subscribers WHERE id = ?1')
    .bind(subscriberId, email, link, at)
    .run()
}
