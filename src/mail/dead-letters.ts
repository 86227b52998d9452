/** Jobs that will never succeed, kept in D1's dead_letters where the marketer sees them. */

/** Keeps messages in D1's dead_letters, where they stay visible and can be replayed. */
export async function keepDeadLetters(db: D1Database, queue: string, messages: readonly Message[], now: number) {
  if (messages.length === 0) return
  const insert = db.prepare('INSERT INTO dead_letters (queue, body, attempts, received_at) VALUES (?, ?, ?, ?)')
  await db.batch(messages.map((m) => insert.bind(queue, JSON.stringify(m.body), m.attempts, now)))
}
