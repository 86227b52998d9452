/**
 * What became of each email a subscriber was sent, kept compactly (migration 0012): one receipt
 * row per (subscriber, email) whose provider events are bits, counters the stats read, and the
 * names of emails. The triggers of that migration keep the counters as rows are written.
 */

/** The bit each event sets in a receipt's `events`. */
export const EVENT_BITS = {
  delivered: 1,
  opened: 2,
  clicked: 4,
  bounced: 8,
  complained: 16,
  /** Followed a link of ours (first-party, /r/). */
  link: 32,
} as const

export type ReceiptEvent = keyof typeof EVENT_BITS

/** A receipt's bits as the names of what happened, in that order. */
export const eventNames = (bits: number): ReceiptEvent[] =>
  (Object.keys(EVENT_BITS) as ReceiptEvent[]).filter((k) => (bits & EVENT_BITS[k]) !== 0)

/** An email's key, as receipts and counters name it. */
export const lessonKey = (course: string, lesson: number) => `lesson:${course}:${lesson}`
export const broadcastKey = (id: string) => `broadcast:${id}`

/**
 * The key of the email a provider event is about, from the tags it was sent with (Resend echoes
 * them in its webhooks): 'lesson:<course>:<n>', 'broadcast:<id>', or the email's type
 * ('confirmation', 'completion', …); 'other' when it carries none.
 */
export function emailKeyOfTags(tags: Record<string, unknown> | undefined): string {
  const t = (name: string) => (typeof tags?.[name] === 'string' ? (tags[name] as string) : undefined)
  const type = t('type')
  const course = t('course')
  const lesson = t('lesson')
  const broadcast = t('broadcast')
  if (type === 'lesson' && course && lesson && /^\d+$/.test(lesson)) return lessonKey(course, Number(lesson))
  if (type === 'broadcast' && broadcast) return broadcastKey(broadcast)
  return type && /^[a-z][a-z0-9-]{0,40}$/.test(type) ? type : 'other'
}

/**
 * A subscriber's receipts as people read them: the email, when it was sent, and what happened
 * (`events` as names). `ids` is SQL naming the subscribers' TEXT ids, with its own parameters.
 */
export const receiptsOf = (ids: string) =>
  `SELECT s.id AS subscriber_id, e.key AS email, r.sent_at, r.events
   FROM receipts r JOIN subscribers s ON s.num = r.subscriber JOIN emails e ON e.num = r.email
   WHERE s.id IN ${ids} ORDER BY r.sent_at`

/** Rows of `receiptsOf`, their bits named. */
export const presentReceipts = (rows: Record<string, unknown>[]) =>
  rows.map(({ events, ...r }) => ({ ...r, events: eventNames(Number(events)) }))
