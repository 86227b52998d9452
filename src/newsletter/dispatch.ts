import { localDay, type MorningSchedule, morningAfter } from '../lib/schedule'
import { guardReason } from './guard'
import {
  activeBroadcasts,
  type Broadcast,
  claimDue,
  type DayCheck,
  dayChecks,
  pauseBroadcast,
  postpone,
  settle,
} from './store'

/** One message on the bulk queue: up to 100 recipients of one broadcast, sent as one provider batch. */
export interface BroadcastJob {
  kind: 'broadcast'
  broadcastId: string
  subscriberIds: string[]
  /** The cron's scheduledTime (or the request's time for "now"). */
  dispatchedAt: number
}

/** Resend's batch endpoint takes at most 100 emails; Queue.sendBatch at most 100 messages. */
const BATCH_SIZE = 100
const QUEUE_BATCH = 100
const CLAIM_LIMIT = 1_000
/** How long queued recipients are left to the queue before a later cron may queue them again. */
export const LEASE_MS = 30 * 60_000

/**
 * At local morning a reader gets at most one email from us a day: a broadcast yields to a lesson
 * due (or sent) that local day, and to another broadcast already sent that day. The lesson never moves.
 */
function mustWait(c: DayCheck, now: number): boolean {
  const today = localDay(now, c.timezone)
  const lessonToday =
    c.status === 'active' &&
    c.next_send_at !== null &&
    (c.next_send_at <= now || localDay(c.next_send_at, c.timezone) === today)
  const sameDay = (at: number | null) => at !== null && localDay(at, c.timezone) === today
  return lessonToday || sameDay(c.last_lesson) || sameDay(c.last_broadcast)
}

/** Queues the due recipients of one broadcast; returns how many were queued. */
async function dispatchOne(
  db: D1Database,
  queue: Queue,
  b: Broadcast,
  now: number,
  morning: MorningSchedule,
): Promise<number> {
  let queued = 0
  for (;;) {
    const claimed = await claimDue(db, b.id, now, now + LEASE_MS, CLAIM_LIMIT)
    if (claimed.length === 0) break
    let ids = claimed.map((r) => r.subscriber_id)
    if (b.send_mode === 'local-morning') {
      // Only those not yet in a provider batch may still be moved.
      const fresh = claimed.filter((r) => r.status === 'queued').map((r) => r.subscriber_id)
      const checks = await dayChecks(db, b.id, fresh)
      const waits = checks.filter((c) => mustWait(c, now))
      await postpone(
        db,
        b.id,
        waits.map((c) => ({ id: c.id, dueAt: morningAfter(now, c.timezone, morning) })),
      )
      const moved = new Set(waits.map((c) => c.id))
      ids = ids.filter((id) => !moved.has(id))
    }
    const jobs: BroadcastJob[] = []
    for (let i = 0; i < ids.length; i += BATCH_SIZE)
      jobs.push({
        kind: 'broadcast',
        broadcastId: b.id,
        subscriberIds: ids.slice(i, i + BATCH_SIZE),
        dispatchedAt: now,
      })
    for (let i = 0; i < jobs.length; i += QUEUE_BATCH)
      await queue.sendBatch(jobs.slice(i, i + QUEUE_BATCH).map((body) => ({ body })))
    queued += ids.length
    if (claimed.length < CLAIM_LIMIT) break
  }
  return queued
}

/**
 * The cron's newsletter work (and a "now" broadcast's, at once): for each scheduled or sending
 * broadcast, the guard first, then every recipient due by `now` queued, in batches of 100.
 */
export async function dispatchBroadcasts(
  db: D1Database,
  queue: Queue,
  now: number,
  morning: MorningSchedule,
  only?: string,
): Promise<{ recipients: number; paused: string[] }> {
  let recipients = 0
  const paused: string[] = []
  for (const b of await activeBroadcasts(db)) {
    if (only !== undefined && b.id !== only) continue
    const reason = await guardReason(db, b, now)
    if (reason) {
      if (await pauseBroadcast(db, b.id, reason, now)) paused.push(b.id)
      console.error(`broadcast ${b.id} paused: ${reason}`)
      continue
    }
    recipients += await dispatchOne(db, queue, b, now, morning)
    await settle(db, b.id, now)
  }
  return { recipients, paused }
}

/** Pauses every sending broadcast the guard now stops (after a complaint or a bounce arrived). */
export async function guardAll(db: D1Database, now: number): Promise<string[]> {
  const paused: string[] = []
  for (const b of await activeBroadcasts(db)) {
    const reason = await guardReason(db, b, now)
    if (reason && (await pauseBroadcast(db, b.id, reason, now))) paused.push(b.id)
  }
  return paused
}
