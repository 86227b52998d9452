/**
 * The sunset policy (off by default): a reader with no click in their last N emails is asked whether
 * they still want them, and unsubscribed from everything if they do not answer within the grace
 * period. A click on any link, or the email's button, answers. Run by the cron once a day.
 */
import type { SiteSettings } from '../ui/types'
import { askToStay, type LifecycleDeps, type OutboxRow, stay, sunset } from './lifecycle'

/** The policy's settings, or undefined when it is off. */
export function sunsetOf(site: SiteSettings): { afterEmails: number; graceDays: number } | undefined {
  const after = site.sunset?.afterEmails ?? 0
  return after > 0 ? { afterEmails: after, graceDays: site.sunset?.graceDays ?? 7 } : undefined
}

/** The hour (UTC) of the day whose first cron run applies the policy. */
export const SUNSET_HOUR_UTC = 4
const LIMIT = 1_000

/** Readers still mailed, not asked yet, whose last `n` emails (lessons and broadcasts) drew no click. */
async function quietReaders(db: D1Database, n: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT s.id FROM subscribers s
       WHERE s.sunset_asked_at IS NULL AND s.status NOT IN ('pending', 'bounced', 'complained')
         AND (s.status IN ('active', 'paused') OR s.newsletter = 'active')
         AND (SELECT count(*) FROM receipts r WHERE r.subscriber = s.num AND r.sent_at > coalesce(s.last_click_at, 0)) >= ?1
       LIMIT ?2`,
    )
    .bind(n, LIMIT)
    .all<{ id: string }>()
  return results.map((r) => r.id)
}

/** Readers asked before `before`: those who clicked since (they stay) and those who did not. */
async function answered(db: D1Database, before: number) {
  const { results } = await db
    .prepare(
      `SELECT s.id, coalesce(s.last_click_at >= s.sunset_asked_at, 0) AS clicked,
              s.sunset_asked_at <= ?1 AS expired
       FROM subscribers s WHERE s.sunset_asked_at IS NOT NULL LIMIT ?2`,
    )
    .bind(before, LIMIT)
    .all<{ id: string; clicked: number; expired: number }>()
  return results
}

/**
 * The day's sunset: readers who clicked since being asked stay; those asked over the grace period
 * ago without a click are unsubscribed from everything; quiet readers are asked. Returns the jobs
 * (re-engagement emails, events) to hand to the queue, and the counts.
 */
export async function applySunset(deps: LifecycleDeps, site: SiteSettings, now: number) {
  const policy = sunsetOf(site)
  if (!policy) return { asked: 0, stayed: 0, sunset: 0, outbox: [] as OutboxRow[] }
  const outbox: OutboxRow[] = []
  const seen = await answered(deps.db, now - policy.graceDays * 86_400_000)
  const clicked = seen.filter((r) => r.clicked)
  for (const r of clicked) outbox.push(...(await stay(deps, r.id, now)).outbox)
  const gone = seen.filter((r) => !r.clicked && r.expired).map((r) => r.id)
  if (gone.length > 0) outbox.push(...(await sunset(deps, gone, now)).outbox)
  const quiet = await quietReaders(deps.db, policy.afterEmails)
  const asked = quiet.length > 0 ? await askToStay(deps, quiet, now) : undefined
  outbox.push(...(asked?.outbox ?? []))
  return { asked: asked?.changed.length ?? 0, stayed: clicked.length, sunset: gone.length, outbox }
}
