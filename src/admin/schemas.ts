import * as v from 'valibot'
import { courseId, DEFAULT_COURSE, fields, strictMessage } from '../subscribers/schema'

/** The admin API's inputs; the routes validate with them and the OpenAPI document is made from them. */

export const STATUSES = ['pending', 'active', 'paused', 'completed', 'unsubscribed', 'bounced', 'complained'] as const
const day = v.optional(v.pipe(v.string(), v.isoDate('must be a date (YYYY-MM-DD)')))
/** A whole number in a query string, from `min` to `max`. */
const whole = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,6}$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be ${min} to ${max}`),
    v.maxValue(max, `must be ${min} to ${max}`),
  )

/** Filters of the subscriber list and its CSV export. */
const filterFields = {
  status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(', ')}`)),
  source: fields.source,
  utm_campaign: fields.utm,
  created_from: day,
  created_to: day,
  lesson_reached: v.optional(whole(0, 1000)),
}
export const listSchema = v.strictObject(
  { ...filterFields, limit: v.optional(whole(1, 500), '50'), cursor: v.optional(v.pipe(v.string(), v.maxLength(200))) },
  strictMessage,
)
export const exportSchema = v.strictObject(filterFields, strictMessage)

/** GET /api/admin/stats. */
export const statsSchema = v.strictObject({ from: day, to: day }, strictMessage)

/** POST /api/admin/test-email. */
export const testSchema = v.pipe(
  v.strictObject(
    {
      to: fields.email,
      email: v.picklist(
        ['confirmation', 'lesson', 'course-complete'],
        'must be confirmation, lesson or course-complete',
      ),
      course: v.optional(courseId, DEFAULT_COURSE),
      lesson: v.optional(
        v.pipe(
          v.number('must be a lesson number'),
          v.integer('must be a lesson number'),
          v.minValue(1, 'must be 1 or more'),
        ),
      ),
    },
    strictMessage,
  ),
  v.metadata({ ref: 'TestEmail' }),
)

/** /api/admin/people/:email. */
export const personSchema = v.object({ email: fields.email })

/** A time in ISO 8601 with its zone: `Z` or an offset such as `+02:00`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/
/** A day (YYYY-MM-DD, UTC) or a time with its zone. */
const dayOrTime = v.optional(
  v.pipe(
    v.string('must be a date (YYYY-MM-DD) or an ISO 8601 time'),
    v.check(
      (s) => (v.is(v.pipe(v.string(), v.isoDate()), s) || ISO_TIME.test(s)) && !Number.isNaN(Date.parse(s)),
      'must be a date (YYYY-MM-DD) or an ISO 8601 time with Z or an offset',
    ),
  ),
)

/** Who of the newsletter's members a broadcast goes to. */
export const segmentSchema = v.strictObject(
  {
    source: fields.source,
    utm_campaign: fields.utm,
    signed_up_from: dayOrTime,
    signed_up_to: dayOrTime,
    course: v.optional(v.picklist(['in-progress', 'completed', 'none'], 'must be in-progress, completed or none')),
  },
  strictMessage,
)

/** POST /api/admin/broadcasts. */
export const broadcastSchema = v.pipe(
  v.strictObject(
    {
      path: v.pipe(
        v.string((i) => (i.input === undefined ? 'is required' : 'must be text')),
        v.regex(/^\/[\w./-]{0,300}$/, 'must be the path of a published essay or letter, such as /back-pain/x'),
      ),
      send: v.pipe(
        v.string((i) => (i.input === undefined ? 'is required' : 'must be text')),
        v.check(
          (s) => s === 'now' || s === 'local-morning' || (ISO_TIME.test(s) && !Number.isNaN(Date.parse(s))),
          'must be "now", "local-morning" or an ISO 8601 time with Z or an offset',
        ),
      ),
      segment: v.optional(segmentSchema),
    },
    strictMessage,
  ),
  v.metadata({ ref: 'NewBroadcast' }),
)

/** POST /api/admin/broadcasts/:id/test. */
export const broadcastTestSchema = v.strictObject({ to: fields.email }, strictMessage)

/** A broadcast's id in a path. */
export const broadcastIdSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^bc_[0-9a-f]{20}$/, 'is not a broadcast id')),
})

// ---- Answers: what the admin API gives back, for the OpenAPI document --------------------------

/** A moment, as every admin answer gives it: ISO 8601 in UTC. */
const time = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC, such as 2026-11-01T10:00:00.000Z'))
const maybeTime = v.nullable(time)
const maybeText = v.nullable(v.string())
const count = v.pipe(v.number(), v.integer())
/** JSON the row holds, given as the object itself. */
const jsonObject = v.pipe(v.record(v.string(), v.unknown()), v.description('A JSON object'))
const newsletterStatus = v.picklist(['none', 'pending', 'active', 'left'])

/** A subscriber as the list, the CSV and one subscriber's page show them (presentSubscriber). */
export const subscriberAnswer = v.pipe(
  v.strictObject({
    id: v.string(),
    email: v.string(),
    first_name: maybeText,
    status: v.picklist(STATUSES),
    course: v.string(),
    timezone: v.string(),
    lessons_received: count,
    next_lesson_at: maybeTime,
    source: maybeText,
    referrer: maybeText,
    landing_path: maybeText,
    utm_source: maybeText,
    utm_medium: maybeText,
    utm_campaign: maybeText,
    utm_term: maybeText,
    utm_content: maybeText,
    consent: v.strictObject({ at: maybeTime, ip: maybeText, user_agent: maybeText, text: v.string() }),
    created_at: maybeTime,
    confirmed_at: maybeTime,
    unsubscribed_at: maybeTime,
    newsletter: newsletterStatus,
    newsletter_consent: v.nullable(
      v.strictObject({ at: maybeTime, ip: maybeText, user_agent: maybeText, text: v.string() }),
    ),
    newsletter_joined_at: maybeTime,
    newsletter_left_at: maybeTime,
  }),
  v.metadata({ ref: 'Subscriber' }),
)

/** GET /api/admin/subscribers. */
export const subscriberPageAnswer = v.strictObject({
  subscribers: v.array(subscriberAnswer),
  next_cursor: v.pipe(maybeText, v.description('The next page: pass it as ?cursor=; null on the last page')),
})

const deliveryStatus = v.picklist(['sending', 'sent'])
const lineFields = {
  type: v.pipe(v.string(), v.description('signed_up, confirmed, imported, unsubscribed, …')),
  at: time,
  data: jsonObject,
}
const receiptFields = {
  email: v.pipe(v.string(), v.description("The email: 'lesson:<course>:<n>', 'broadcast:<id>', 'confirmation', …")),
  sent_at: time,
  events: v.pipe(
    v.array(v.picklist(['delivered', 'opened', 'clicked', 'bounced', 'complained', 'link'])),
    v.description("What the provider reported and the reader did ('link': followed a link of ours)"),
  ),
}

/** GET /api/admin/subscribers/:id. */
export const subscriberDetailAnswer = v.strictObject({
  subscriber: subscriberAnswer,
  deliveries: v.array(
    v.strictObject({
      round: count,
      lesson: count,
      status: deliveryStatus,
      message_id: maybeText,
      created_at: time,
      sent_at: maybeTime,
    }),
  ),
  events: v.pipe(v.array(v.strictObject(lineFields)), v.description('The history, oldest first')),
  received: v.pipe(
    v.array(v.strictObject({ subscriber_id: v.string(), ...receiptFields })),
    v.description('Each email received in the raw history period, oldest first, with what became of it'),
  ),
})

/**
 * GET /api/admin/people/:email: everything held about an address (GDPR access). Each subscription
 * is the whole stored row; times are ISO 8601, JSON columns are objects.
 */
export const personExportAnswer = v.pipe(
  v.strictObject({
    email: v.pipe(v.string(), v.description('The address, trimmed and lower-cased')),
    subscriptions: v.array(
      v.strictObject({
        id: v.string(),
        email: v.string(),
        email_normalized: v.string(),
        first_name: maybeText,
        course: v.string(),
        status: v.picklist(STATUSES),
        timezone: v.string(),
        lesson_position: v.pipe(count, v.description('Lessons received')),
        course_round: v.pipe(count, v.description('Which time through the course')),
        next_send_at: maybeTime,
        lease_until: v.pipe(maybeTime, v.description('Until when a lesson being sent holds the subscription')),
        source: maybeText,
        referrer: maybeText,
        landing_path: maybeText,
        utm_source: maybeText,
        utm_medium: maybeText,
        utm_campaign: maybeText,
        utm_term: maybeText,
        utm_content: maybeText,
        tags: v.array(v.string()),
        consent_at: time,
        consent_ip: maybeText,
        consent_user_agent: maybeText,
        consent_text: v.string(),
        created_at: time,
        confirmation_sent_at: maybeTime,
        confirmed_at: maybeTime,
        unsubscribed_at: maybeTime,
        updated_at: time,
        transition_id: v.pipe(maybeText, v.description('The last change of state (internal)')),
        newsletter: newsletterStatus,
        newsletter_consent_at: maybeTime,
        newsletter_consent_ip: maybeText,
        newsletter_consent_user_agent: maybeText,
        newsletter_consent_text: maybeText,
        newsletter_joined_at: maybeTime,
        newsletter_left_at: maybeTime,
        sunset_asked_at: maybeTime,
        num: v.pipe(count, v.description("The subscription's number in the compact tables (internal)")),
        last_click_at: v.pipe(maybeTime, v.description('When they last followed a link of ours')),
      }),
    ),
    history: v.array(v.strictObject({ subscriber_id: v.string(), ...lineFields })),
    deliveries: v.array(
      v.strictObject({
        subscriber_id: v.string(),
        round: count,
        lesson: count,
        course: v.string(),
        status: deliveryStatus,
        message_id: maybeText,
        created_at: time,
        sent_at: maybeTime,
      }),
    ),
    newsletter: v.pipe(
      v.array(
        v.strictObject({
          subscriber_id: v.string(),
          broadcast_id: v.string(),
          path: v.pipe(v.string(), v.description('The essay or letter sent')),
          status: v.picklist(['waiting', 'queued', 'sending', 'sent', 'skipped', 'failed']),
          reason: v.pipe(maybeText, v.description('Why it was skipped or failed')),
          message_id: maybeText,
          sent_at: maybeTime,
        }),
      ),
      v.description('The broadcasts sent (or to be sent) to the address'),
    ),
    clicks: v.pipe(
      v.array(v.strictObject({ subscriber_id: v.string(), email: v.string(), link: v.string(), at: time })),
      v.description('Each link followed in our emails (first-party, through /r/)'),
    ),
    received: v.pipe(
      v.array(v.strictObject({ subscriber_id: v.string(), ...receiptFields })),
      v.description('Each email received in the raw history period, with what became of it'),
    ),
    emails: v.pipe(
      v.array(v.strictObject({ id: v.string(), created_at: time, subject: v.string() })),
      v.description('Emails kept in the local outbox (local runs only)'),
    ),
  }),
  v.metadata({ ref: 'PersonExport' }),
)
