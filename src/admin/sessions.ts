/**
 * D1 for the admin's door: dashboard sessions (signing out ends one for good) and the wrong tokens
 * each client sent lately (after 5 in 10 minutes, the door answers 429 until the oldest ages out).
 */

/** Wrong tokens a client may send in the window before it is turned away. */
export const MAX_FAILURES = 5
export const FAILURE_WINDOW_MS = 10 * 60_000

/** Opens a session until `expiresAt`; returns its id (the cookie carries it, signed). */
export async function openSession(db: D1Database, now: number, expiresAt: number): Promise<string> {
  const id = crypto.randomUUID()
  await db
    .prepare('INSERT INTO admin_sessions (id, created_at, expires_at) VALUES (?, ?, ?)')
    .bind(id, now, expiresAt)
    .run()
  return id
}

/** True while the session is open: not signed out, not expired. */
export async function sessionOpen(db: D1Database, id: string, now: number): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 FROM admin_sessions WHERE id = ? AND ended_at IS NULL AND expires_at > ?')
    .bind(id, now)
    .first()
  return row !== null
}

/** Ends a session (sign-out), and forgets sessions long expired. */
export async function endSession(db: D1Database, id: string, now: number): Promise<void> {
  await db.batch([
    db.prepare('UPDATE admin_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL').bind(now, id),
    db.prepare('DELETE FROM admin_sessions WHERE expires_at < ?').bind(now - 86_400_000),
  ])
}

/**
 * The client's wrong tokens in the window (up to the limit), and the seconds until it may try again
 * (0 when it has not sent too many lately).
 */
export async function throttled(
  db: D1Database,
  client: string,
  now: number,
): Promise<{ failures: number; wait: number }> {
  const rows = await db
    .prepare('SELECT at FROM admin_sign_in_failures WHERE client = ? AND at > ? ORDER BY at DESC LIMIT ?')
    .bind(client, now - FAILURE_WINDOW_MS, MAX_FAILURES)
    .all<{ at: number }>()
  const failures = rows.results.length
  if (failures < MAX_FAILURES) return { failures, wait: 0 }
  const oldest = rows.results[MAX_FAILURES - 1]?.at ?? now
  return { failures, wait: Math.max(1, Math.ceil((oldest + FAILURE_WINDOW_MS - now) / 1000)) }
}

/** Records a wrong token from a client (and drops its failures older than the window). */
export async function recordFailure(db: D1Database, client: string, now: number): Promise<void> {
  await db.batch([
    db.prepare('DELETE FROM admin_sign_in_failures WHERE client = ? AND at <= ?').bind(client, now - FAILURE_WINDOW_MS),
    db.prepare('INSERT INTO admin_sign_in_failures (client, at) VALUES (?, ?)').bind(client, now),
  ])
}

/** A right token: the client's wrong ones are forgotten. */
export async function clearFailures(db: D1Database, client: string): Promise<void> {
  await db.prepare('DELETE FROM admin_sign_in_failures WHERE client = ?').bind(client).run()
}
