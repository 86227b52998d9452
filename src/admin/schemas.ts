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
