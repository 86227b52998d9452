import { claimDue, type LessonPair } from './store'

/** One LESSONS queue message: up to 100 lessons of one course, as the cron dispatched them. */
export interface LessonJob {
  kind: 'lessons'
  course: string
  pairs: LessonPair[]
  /** The cron's scheduledTime: the "now" the schedule is computed from (tests travel in time). */
  dispatchedAt: number
}

/** Resend's batch endpoint takes at most 100 emails. */
export const BATCH_SIZE = 100
/** How long a claimed subscriber is left to the queue before another run may claim it again. */
export const LEASE_MS = 30 * 60_000
const CLAIM_LIMIT = 1_000
/** Queue.sendBatch takes at most 100 messages. */
const QUEUE_BATCH = 100

/**
 * The cron's work: claims every subscriber whose next lesson is due at `now` and queues their
 * lessons, one LESSONS message per batch of at most 100 of one course.
 */
export async function dispatchDueLessons(
  db: D1Database,
  queue: Queue<LessonJob>,
  now: number,
  maxSubscribers = 200_000,
): Promise<{ subscribers: number; messages: number }> {
  let subscribers = 0
  let messages = 0
  while (subscribers < maxSubscribers) {
    const due = await claimDue(db, now, LEASE_MS, Math.min(CLAIM_LIMIT, maxSubscribers - subscribers))
    if (due.length === 0) break
    subscribers += due.length
    const byCourse = new Map<string, LessonPair[]>()
    for (const s of due) {
      const pairs = byCourse.get(s.course) ?? []
      pairs.push({ subscriberId: s.id, round: s.course_round, lesson: s.lesson_position + 1 })
      byCourse.set(s.course, pairs)
    }
    const jobs: LessonJob[] = []
    for (const [course, pairs] of byCourse)
      for (let i = 0; i < pairs.length; i += BATCH_SIZE)
        jobs.push({ kind: 'lessons', course, pairs: pairs.slice(i, i + BATCH_SIZE), dispatchedAt: now })
    for (let i = 0; i < jobs.length; i += QUEUE_BATCH)
      await queue.sendBatch(jobs.slice(i, i + QUEUE_BATCH).map((body) => ({ body })))
    messages += jobs.length
  }
  return { subscribers, messages }
}
