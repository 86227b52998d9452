/**
 * The deliverability guard. Gmail and Yahoo ask bulk senders to keep spam complaints under 0.3%;
 * a list that bounces hard is a list that was bought or has gone stale. When either passes its
 * limit, sending pauses by itself until a marketer resumes, and the dashboard and API say why.
 */
import { type Broadcast, bounceFigures, complaintFigures } from './store'

/** Complaints over the last 7 days, as a share of the mail delivered in them. */
export const COMPLAINT_LIMIT = 0.003
/** Hard bounces among a broadcast's first 1,000 sent. */
export const BOUNCE_LIMIT = 0.04
export const COMPLAINT_WINDOW_MS = 7 * 86_400_000

const percent = (x: number) => `${(x * 100).toFixed(2).replace(/\.?0+$/, '')}%`

/**
 * Why this broadcast must pause now, or undefined. Only trouble newer than the marketer's last
 * resume counts: resuming past a known complaint does not pause again for the same complaint.
 */
export async function guardReason(db: D1Database, b: Broadcast, now: number): Promise<string | undefined> {
  const since = b.guard_acknowledged_at ?? 0
  const c = await complaintFigures(db, now - COMPLAINT_WINDOW_MS, since)
  if (c.fresh > 0 && c.complaints > COMPLAINT_LIMIT * Math.max(c.delivered, c.complaints))
    return `spam complaints are ${percent(c.complaints / Math.max(c.delivered, c.complaints))} of the mail delivered in the last 7 days (${c.complaints} of ${c.delivered}), over the ${percent(COMPLAINT_LIMIT)} Gmail and Yahoo allow`
  const bo = await bounceFigures(db, b.id, since)
  if (bo.fresh > 0 && bo.bounces > BOUNCE_LIMIT * bo.sent)
    return `hard bounces are ${percent(bo.bounces / bo.sent)} of this broadcast's first ${bo.sent} emails (${bo.bounces}), over ${percent(BOUNCE_LIMIT)}`
  return undefined
}
